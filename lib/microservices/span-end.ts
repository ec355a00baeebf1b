import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { ERROR_TYPE } from './semconv.js';

/**
 * Ends a span as failed. Microservice errors are often not Error instances: Nest's RPC
 * exception filter turns an RpcException into its error object (`{ status, message }` or
 * whatever the exception carried) and gRPC errors carry a numeric `code`.
 */
export function endWithFailure(span: Span, error: unknown, attributes?: Attributes): void {
  try {
    const message = messageOf(error);
    span.recordException(exceptionOf(error, message));
    span.setAttribute(ERROR_TYPE, errorTypeOf(error));
    if (attributes) span.setAttributes(attributes);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  } catch {
    // an error whose getters throw still ends the span
  }
  span.end();
}

export function endWithSuccess(span: Span, attributes?: Attributes): void {
  try {
    if (attributes) span.setAttributes(attributes);
  } catch {
    // the span still ends
  }
  span.end();
}

/** A system error's code (ECONNREFUSED), else the error's class, else a code or name it carries. */
export function errorTypeOf(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; constructor?: { name?: unknown } } | null;
  if (typeof e?.code === 'string' && e.code !== '') return e.code;
  if (error instanceof Error)
    return typeof e?.constructor?.name === 'string' && e.constructor.name !== '' ? e.constructor.name : error.name;
  if (e && typeof e === 'object') {
    if (typeof e.code === 'string' || typeof e.code === 'number') return String(e.code);
    if (typeof e.name === 'string') return e.name;
  }
  return '_OTHER';
}

function messageOf(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message === 'string') return message;
  if (message !== undefined) return safeJson(message);
  if (error !== null && typeof error === 'object') return safeJson(error);
  return error === undefined ? undefined : String(error);
}

function exceptionOf(error: unknown, message: string | undefined): Error | string {
  if (error instanceof Error) return error;
  const e = error as { name?: unknown; stack?: unknown; code?: unknown } | null;
  return {
    name: typeof e?.name === 'string' ? e.name : errorTypeOf(error),
    message: message ?? '',
    ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
