import type { ZipkinOptions } from './tracing-options.interface.js';
import { check, checkHeaders, checkUrl, isHttpUrl, isPlainObject } from './checks.js';
import { invalidEnv } from './messages.js';

const DEFAULT_URL = 'http://localhost:9411/api/v2/spans';

export interface ResolvedZipkinOptions {
  url: string;
  headers?: Record<string, string>;
}

/** `zipkin`, with its url from OTEL_EXPORTER_ZIPKIN_ENDPOINT when not given, else Zipkin's (and Jaeger's) port 9411. */
export function resolveZipkin(option: ZipkinOptions | undefined, env: NodeJS.ProcessEnv): ResolvedZipkinOptions {
  check(option === undefined || isPlainObject(option), 'zipkin', 'an object', option);
  const url = option?.url ?? (env.OTEL_EXPORTER_ZIPKIN_ENDPOINT?.trim() || DEFAULT_URL);
  if (option?.url !== undefined) checkUrl('zipkin.url', url);
  else if (!isHttpUrl(url))
    throw new Error(invalidEnv('OTEL_EXPORTER_ZIPKIN_ENDPOINT', 'an http:// or https:// URL', url));
  checkHeaders('zipkin.headers', option?.headers);
  return { url, ...(option?.headers ? { headers: option.headers } : {}) };
}
