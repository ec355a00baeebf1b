import { context, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { GuardedExporter } from './guarded-exporter.js';

export interface BatchSettings {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
}

/** The context exports run in: nothing they do (an HTTP request, a log line) is traced. */
const EXPORTING: Context = suppressTracing(ROOT_CONTEXT);

/**
 * The queue between ended spans and one exporter, off the request path: spans wait in a
 * bounded array and leave in batches, one export at a time, when a batch is full (on the
 * next turn of the event loop, never inside span.end()) or when the oldest has waited
 * scheduledDelayMillis. A full queue drops the span and tells the export guard, which
 * counts and reports it; so the guard also reads the queue's length.
 */
export class RecordBatcher implements SpanProcessor {
  private queue: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private exporting: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly guard: GuardedExporter,
    private readonly settings: BatchSettings,
  ) {
    guard.configure({ queueSize: () => this.queue.length });
  }

  onStart(_span: Span, _parent: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed) return;
    if (this.queue.length >= this.settings.maxQueueSize) {
      this.guard.dropQueued(1);
      return;
    }
    this.queue.push(span);
    if (this.exporting === undefined) this.schedule();
  }

  /** Exports every queued span now, all batches at once as the SDK's processor does, and waits for them and for the export under way. */
  async forceFlush(): Promise<void> {
    this.cancelWaits();
    const pending: Array<Promise<void>> = this.exporting === undefined ? [] : [this.exporting];
    while (this.queue.length > 0) pending.push(this.send(this.take()));
    await Promise.all(pending);
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await this.forceFlush();
    await this.guard.shutdown();
  }

  private exportNext(): void {
    this.cancelWaits();
    if (this.exporting !== undefined || this.queue.length === 0) return;
    this.exporting = this.send(this.take()).then(() => {
      this.exporting = undefined;
      if (this.closed) return;
      // a full batch waiting goes now, as the SDK's processor sends it: a burst drains without waiting for turns
      if (this.queue.length >= this.settings.maxExportBatchSize) this.exportNext();
      else if (this.queue.length > 0) this.schedule();
    });
  }

  private take(): ReadableSpan[] {
    const size = this.settings.maxExportBatchSize;
    if (this.queue.length <= size) {
      const batch = this.queue;
      this.queue = [];
      return batch;
    }
    return this.queue.splice(0, size);
  }

  private send(batch: ReadableSpan[]): Promise<void> {
    // the guard never throws and always calls back (its own timeout covers a hung exporter)
    return new Promise<void>((resolve) => context.with(EXPORTING, () => this.guard.export(batch, () => resolve())));
  }

  /** The next export: on the next turn if a batch is full, else once the oldest span has waited the delay. */
  private schedule(): void {
    if (this.queue.length >= this.settings.maxExportBatchSize) this.immediate ??= setImmediate(() => this.exportNext());
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.exportNext(), this.settings.scheduledDelayMillis);
      this.timer.unref();
    }
  }

  private cancelWaits(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
  }
}
