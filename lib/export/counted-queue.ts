import { TraceFlags, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { GuardedExporter } from './guarded-exporter.js';

/**
 * Caps a batch processor's queue and counts what the cap drops. The SDK's
 * BatchSpanProcessor drops silently (a debug line and a counter it resets) when its queue
 * is full; this gate sits in front of it with the same capacity and drops first, telling
 * the exporter's guard, so every dropped span is reported with the outage or overload.
 *
 * The queue length is what the gate let in minus what the processor handed to the
 * exporter: the processor passes every queued span to export() synchronously.
 */
export class CountedQueue implements SpanProcessor {
  private accepted = 0;
  private closed = false;

  constructor(
    private readonly inner: SpanProcessor,
    private readonly guard: GuardedExporter,
    readonly capacity: number,
  ) {
    guard.configure({ queueSize: () => this.queued });
  }

  get queued(): number {
    return Math.max(0, this.accepted - this.guard.received);
  }

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnding(span: Span): void {
    this.inner.onEnding?.(span);
  }

  onEnd(span: ReadableSpan): void {
    // the processor ignores unsampled spans and everything after shutdown: so does the count
    if (!this.closed && (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) {
      if (this.accepted - this.guard.received >= this.capacity) {
        this.guard.dropQueued(1);
        return;
      }
      this.accepted++;
    }
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    this.closed = true;
    return this.inner.shutdown();
  }
}
