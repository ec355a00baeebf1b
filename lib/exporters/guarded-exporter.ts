import type { Logger } from '@nestjs/common';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { exporterDown, exporterDroppedAtShutdown, exporterRecovered } from '../tracing.messages.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;

/**
 * Stands between the batch processor and an exporter so that a dead, slow or broken
 * collector costs the app nothing: a sync throw, a rejection or a callback that never
 * comes is a failure; while failing, batches are dropped and counted instead of piling
 * up in sockets and retries, with one probe batch let through per back-off period.
 * The outage is logged when it starts and when it ends (or at shutdown), never per batch.
 * The processor is always told SUCCESS: the failure is already handled here.
 */
export class GuardedExporter implements SpanExporter {
  private failing = false;
  private dropped = 0;
  private droppedInOutage = 0;
  private retryMs = FIRST_RETRY_MS;
  private nextAttemptAt = 0;

  constructor(
    private readonly inner: SpanExporter,
    readonly name: string,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  get droppedSpans(): number {
    return this.dropped;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.failing && Date.now() < this.nextAttemptAt) {
      this.dropped += spans.length;
      this.droppedInOutage += spans.length;
      done({ code: ExportResultCode.SUCCESS });
      return;
    }
    let settled = false;
    const settle = (ok: boolean, error?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) this.succeeded();
      else this.failed(spans.length, error);
      done({ code: ExportResultCode.SUCCESS });
    };
    const timer = setTimeout(() => settle(false, new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    timer.unref();
    try {
      this.inner.export(spans, (result) => settle(result?.code === ExportResultCode.SUCCESS, result?.error));
    } catch (error) {
      settle(false, error);
    }
  }

  async forceFlush(): Promise<void> {
    try {
      await this.inner.forceFlush?.();
    } catch {
      // a flush failure is an export failure, already counted by export()
    }
  }

  async shutdown(): Promise<void> {
    try {
      await this.inner.shutdown();
    } catch {
      // nothing left to protect at shutdown; reportAtShutdown says what was lost
    }
  }

  reportAtShutdown(): void {
    if (this.failing && this.droppedInOutage > 0) this.logger.warn(exporterDroppedAtShutdown(this.name, this.droppedInOutage));
  }

  private succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.retryMs = FIRST_RETRY_MS;
    this.logger.log(exporterRecovered(this.name, this.droppedInOutage));
    this.droppedInOutage = 0;
  }

  private failed(count: number, error: unknown): void {
    this.dropped += count;
    this.droppedInOutage += count;
    if (!this.failing) {
      this.failing = true;
      this.logger.warn(exporterDown(this.name, error));
    } else {
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    }
    this.nextAttemptAt = Date.now() + this.retryMs;
  }
}
