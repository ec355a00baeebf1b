import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';

/*
 * The one place that decides how a span records an outcome: which errors mark it as
 * failed, what its `error.type` is, and how an error that is not an Error instance is
 * written as an exception event. Every span kind (decorated methods, server, client and
 * message spans) ends through here.
 */

const ERROR_TYPE = 'error.type';

/**
 * Ends a span whose work threw or rejected with `error`: an exception event always; the
 * ERROR status and `error.type` unless the error is an answer rather than a failure (a
 * Nest HttpException below 500, as for HTTP server spans). `attributes` are set last, so
 * a convention with its own `error.type` (gRPC status codes) has the last word.
 */
export function endWithFailure(span: Span, error: unknown, attributes?: Attributes): void {
  try {
    const message = messageOf(error);
    span.recordException(exceptionOf(error, message));
    if (!isClientError(error)) {
      span.setAttribute(ERROR_TYPE, errorTypeOf(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    if (attributes) span.setAttributes(attributes);
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

/**
 * Marks a span failed by an HTTP status: for a server, 5xx (the server failed); for a
 * client, 4xx too (the call did not get what it asked for). `error.type` is the status.
 */
export function recordHttpStatus(span: Span, status: number, side: 'server' | 'client'): void {
  if (status < (side === 'server' ? 500 : 400)) return;
  span.setAttribute(ERROR_TYPE, String(status));
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/**
 * An answer, not a failure: a Nest HttpException below 500 (NotFound, Forbidden...), and a
 * WsException (what a gateway sends the client as an `exception` message, the WebSocket
 * counterpart of a 4xx; a guard's refusal is one).
 */
export function isClientError(error: unknown): boolean {
  try {
    const status = (error as { getStatus?: () => unknown } | null)?.getStatus?.();
    return (typeof status === 'number' && status < 500) || isA(error, 'WsException');
  } catch {
    return false;
  }
}

/** True when `error`'s class or one it extends is named `name` (for classes of optional peers, never imported). */
function isA(error: unknown, name: string): boolean {
  if (!(error instanceof Error)) return false;
  for (let proto: unknown = Object.getPrototypeOf(error); proto && proto !== Error.prototype;) {
    if ((proto as { constructor?: { name?: unknown } }).constructor?.name === name) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

/** A system error's code (ECONNREFUSED), else the error's class, else a code or name it carries. */
export function errorTypeOf(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; constructor?: { name?: unknown } } | null;
  if (typeof e?.code === 'string' && e.code !== '') return e.code;
  if (error instanceof Error) {
    return typeof e?.constructor?.name === 'string' && e.constructor.name !== '' ? e.constructor.name : error.name;
  }
  if (e && typeof e === 'object') {
    if (typeof e.code === 'string' || typeof e.code === 'number') return String(e.code);
    if (typeof e.name === 'string') return e.name;
  }
  return '_OTHER';
}

/**
 * Errors are often not Error instances: Nest's RPC exception filter turns an RpcException
 * into whatever it carried (`{ status, message }`), gRPC errors are objects with a `code`,
 * and code may throw a string.
 */
function messageOf(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message === 'string') return message;
  if (message !== undefined) return safeJson(message);
  if (error !== null && typeof error === 'object') return safeJson(error);
  return error === undefined ? undefined : safeJson(error);
}

function exceptionOf(error: unknown, message: string | undefined): Error | string {
  if (error instanceof Error) return error;
  if (typeof error === 'string') return error;
  const e = error as { name?: unknown; stack?: unknown } | null;
  return {
    name: typeof e?.name === 'string' ? e.name : errorTypeOf(error),
    message: message ?? '',
    ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
