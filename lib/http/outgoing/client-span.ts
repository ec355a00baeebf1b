import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { runtimeOf } from '../../runtime/active-runtime.js';

export interface OutgoingRequest {
  method: string;
  url: URL;
}

export interface StartedClientSpan {
  span: Span;
  /** Headers to add to the request: traceparent, tracestate, baggage. */
  headers: Record<string, string>;
}

/**
 * A CLIENT span for an outgoing HTTP call in the caller's context, and the headers
 * that make the next service's server span its child. Undefined when tracing is
 * suppressed (inside our own exporters).
 */
export function startClientSpan(request: OutgoingRequest): StartedClientSpan | undefined {
  const parent = context.active();
  if (isTracingSuppressed(parent)) return undefined;
  const runtime = runtimeOf(parent);
  try {
    const span = runtime.tracer.startSpan(request.method, { kind: SpanKind.CLIENT }, parent);
    if (span.isRecording()) {
      const { url } = request;
      span.setAttributes({
        'http.request.method': request.method,
        'server.address': url.hostname,
        'server.port': url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
        'url.full': `${url.protocol}//${url.host}${url.pathname}`,
      });
    }
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), headers);
    return { span, headers };
  } catch (error) {
    runtime.report('starting a client span', error);
    return undefined;
  }
}

export function endClientSpan(span: Span, statusCode: number | undefined, error?: unknown): void {
  try {
    if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode);
    if (error !== undefined) {
      span.recordException(error as Error);
      span.setAttribute('error.type', errorType(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    } else if (statusCode !== undefined && statusCode >= 400) {
      span.setAttribute('error.type', String(statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  } catch {
    // whatever the error looks like, the span still ends
  }
  span.end();
}

function errorType(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown } | null;
  if (e && typeof e.code === 'string') return e.code;
  if (e && typeof e.name === 'string') return e.name;
  return '_OTHER';
}
