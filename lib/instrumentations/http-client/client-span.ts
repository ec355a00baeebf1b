import { context, defaultTextMapSetter, isSpanContextValid, SpanKind, trace, type Span } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { endWithFailure, recordHttpStatus } from '../../engine/span-outcome.js';
import { runtimeOf } from '../../runtime/active-runtime.js';

export interface OutgoingRequest {
  method: string;
  url: URL;
}

export interface StartedClientSpan {
  span: Span;
  /** Headers to add to the request: the trace context in every format of the app's `propagators`. */
  headers: Record<string, string>;
}

/**
 * A CLIENT span for an outgoing HTTP call in the caller's context, and the headers that
 * make the next service's server span its child. Undefined outside a trace (a library's
 * start-up or background call would be a trace of one span), when tracing is suppressed
 * (inside our own exporters), and in an app with `traceOutgoingHttp: false`.
 */
export function startClientSpan(request: OutgoingRequest): StartedClientSpan | undefined {
  const parent = context.active();
  if (isTracingSuppressed(parent)) return undefined;
  const parentSpan = trace.getSpanContext(parent);
  if (!parentSpan || !isSpanContextValid(parentSpan)) return undefined;
  const runtime = runtimeOf(parent);
  if (!runtime.options.traceOutgoingHttp) return undefined;
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
    runtime.propagator.inject(trace.setSpan(parent, span), headers, defaultTextMapSetter);
    return { span, headers };
  } catch (error) {
    runtime.report('starting a client span', error);
    return undefined;
  }
}

/** Ends the call's span: a transport error (no answer) fails it, as does a 4xx or 5xx answer. */
export function endClientSpan(span: Span, statusCode: number | undefined, error?: unknown): void {
  try {
    if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode);
    if (error !== undefined) return endWithFailure(span, error);
    if (statusCode !== undefined) recordHttpStatus(span, statusCode, 'client');
  } catch {
    // whatever the answer looks like, the span still ends
  }
  span.end();
}
