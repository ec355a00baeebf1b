import { Injectable, Optional } from '@nestjs/common';
import { context, INVALID_SPAN_CONTEXT, trace, type Span, type SpanOptions } from '@opentelemetry/api';
import { safeAttributes, setSafeAttribute } from './attributes/set-safe-attribute.js';
import { namedSpanSpec } from './engine/span-spec.js';
import { tracedCall } from './engine/traced-call.js';
import type { ExportStats } from './export/export-stats.js';
import { runtimeOf } from './runtime/active-runtime.js';
import { TracingRuntime } from './runtime/tracing-runtime.js';

const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
/** tracedCall takes the traced method's `arguments`; startActiveSpan's function gets none. */
const NO_ARGS = (function (): IArguments {
  // eslint-disable-next-line prefer-rest-params -- an empty `arguments` object is the point
  return arguments;
})();

/** Tracing for code that cannot use a decorator. Every method is safe to call with no active span. */
@Injectable()
export class TraceService {
  constructor(@Optional() private readonly runtime?: TracingRuntime) {}

  /**
   * Per exporter: spans exported and dropped (and why), queued and in flight, and whether
   * it is failing right now; e.g. for a health or metrics endpoint.
   */
  exportStats(): ExportStats[] {
    return (this.runtime ?? runtimeOf(context.active())).exportStats();
  }

  /**
   * Exports every span that has ended so far and waits until the exporters have answered
   * (each export bounded by `batch.exportTimeoutMillis`); for tests, scripts and
   * serverless handlers that must not lose spans before they return.
   */
  async forceFlush(): Promise<void> {
    await (this.runtime ?? runtimeOf(context.active())).forceFlush();
  }

  /** The active span, if any. */
  getSpan(): Span | undefined {
    return trace.getSpan(context.active());
  }

  /** The active trace id (32 hex characters), if any. */
  getTraceId(): string | undefined {
    return this.getSpan()?.spanContext().traceId;
  }

  setAttribute(key: string, value: unknown): void {
    const span = this.getSpan();
    if (span?.isRecording()) setSafeAttribute(span, key, value, runtimeOf(context.active()).options);
  }

  setAttributes(attributes: Record<string, unknown>): void {
    const span = this.getSpan();
    if (span?.isRecording()) span.setAttributes(safeAttributes(attributes, runtimeOf(context.active()).options));
  }

  addEvent(name: string, attributes?: Record<string, unknown>): void {
    const span = this.getSpan();
    if (span?.isRecording())
      span.addEvent(String(name), safeAttributes(attributes, runtimeOf(context.active()).options));
  }

  /**
   * Runs `fn` in a new span, active inside it, and ends the span when the work ends
   * (return, Promise settle, Observable completion), recording errors.
   */
  startActiveSpan<T>(name: string, fn: (span: Span) => T, options: SpanOptions = {}): T {
    const run = (): T => fn(trace.getSpan(context.active()) ?? NO_SPAN);
    return tracedCall(namedSpanSpec(name, options), run, undefined, NO_ARGS) as T;
  }
}
