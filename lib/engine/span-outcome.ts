import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { errorTypeOf, isClientError } from './error-kind.js';

export { errorTypeOf, isClientError };

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

/**
 * Ends a span whose work answered with errors rather than throwing (a GraphQL response's
 * `errors`): an exception event for each; the ERROR status and the first failure's
 * `error.type` unless every error is an answer (isClientError).
 */
export function endWithErrors(span: Span, errors: readonly unknown[], attributes?: Attributes): void {
  try {
    for (const error of errors) span.recordException(exceptionOf(error, messageOf(error)));
    const failure = errors.find((error) => !isClientError(error));
    if (failure !== undefined) {
      span.setAttribute(ERROR_TYPE, errorTypeOf(failure));
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(failure) });
    }
    if (attributes) span.setAttributes(attributes);
  } catch {
    // the span still ends
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
