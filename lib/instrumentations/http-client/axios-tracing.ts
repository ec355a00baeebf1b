import http from 'node:http';
import type { Span } from '@opentelemetry/api';
import { endClientSpan, startClientSpan } from './client-span.js';

const SPAN = Symbol('nestjs-tracing:client-span');
const INSTRUMENTED = Symbol('nestjs-tracing:axios');

interface AxiosConfig {
  method?: string;
  url?: string;
  baseURL?: string;
  headers?: { set?: (name: string, value: string) => unknown } & Record<string, unknown>;
  [SPAN]?: Span;
}
interface AxiosResponse {
  status?: number;
  config?: AxiosConfig;
}
interface AxiosError extends Error {
  response?: { status?: number };
  config?: AxiosConfig;
}
interface AxiosLike {
  interceptors: {
    request: { use(onFulfilled: (config: AxiosConfig) => AxiosConfig): unknown };
    response: {
      use(onFulfilled: (response: AxiosResponse) => AxiosResponse, onRejected: (error: AxiosError) => unknown): unknown;
    };
  };
  [INSTRUMENTED]?: true;
}

/** True for @nestjs/axios's HttpService (duck-typed: the package is optional). */
export function isHttpService(instance: unknown): instance is { axiosRef: AxiosLike } {
  const ref = (instance as { axiosRef?: Partial<AxiosLike> } | null)?.axiosRef;
  return typeof ref?.interceptors?.request?.use === 'function' && typeof ref.interceptors.response?.use === 'function';
}

/**
 * HttpService calls go through axios on node:http, which (unlike fetch) offers no
 * diagnostics channel before headers are sent; axios interceptors run in the caller's
 * context, right before the request and right after the answer.
 */
export function instrumentAxios(axios: AxiosLike): void {
  // A preloaded OpenTelemetry http instrumentation already makes these spans.
  if (axios[INSTRUMENTED] || (http.request as { __wrapped?: boolean }).__wrapped) return;
  axios[INSTRUMENTED] = true;
  axios.interceptors.request.use((config) => {
    const url = resolveUrl(config);
    if (!url) return config;
    const started = startClientSpan({ method: (config.method ?? 'get').toUpperCase(), url });
    if (!started) return config;
    config[SPAN] = started.span;
    for (const [name, value] of Object.entries(started.headers)) {
      if (typeof config.headers?.set === 'function') config.headers.set(name, value);
      else config.headers = { ...config.headers, [name]: value };
    }
    return config;
  });
  axios.interceptors.response.use(
    (response: AxiosResponse) => {
      const span = takeSpan(response?.config);
      if (span) endClientSpan(span, response.status);
      return response;
    },
    (error: AxiosError) => {
      const span = takeSpan(error?.config);
      if (span) endClientSpan(span, error.response?.status, error.response ? undefined : error);
      // axios's own rejection, passed on untouched
      throw error;
    },
  );
}

function takeSpan(config: AxiosConfig | undefined): Span | undefined {
  const span = config?.[SPAN];
  if (config) config[SPAN] = undefined;
  return span;
}

function resolveUrl(config: AxiosConfig): URL | undefined {
  try {
    return new URL(config.url ?? '', config.baseURL);
  } catch {
    return undefined;
  }
}
