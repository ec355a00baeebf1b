import type { Logger } from '@nestjs/common';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import {
  exporterDown,
  exporterDroppedAtShutdown,
  exporterRecovered,
  queueDrained,
  queueFull,
} from '../options/messages.js';
import type { ExportBackoffOptions } from '../options/tracing-options.interface.js';
import { Outage, Overload } from './export-episodes.js';
import type { ExportStats } from './export-stats.js';
import { InFlightExports, withinTimeout } from './in-flight-exports.js';

/**
 * Stands between the batch processor and an exporter so that a dead, slow or broken
 * collector costs the app nothing: a sync throw, a rejection or a callback that never
 * comes is a failure; while failing, batches are dropped and counted instead of piling
 * up in sockets and retries, with one probe batch let through per back-off period, sent
 * in the background so the processor's queue keeps draining. The outage is logged when it
 * starts and when it ends (or at shutdown), never per batch. The processor is always told
 * SUCCESS: the failure is already handled here.
 */
export class GuardedExporter implements SpanExporter {
  /** Spans the processor handed to export(), whatever became of them. */
  received = 0;
  private exported = 0;
  private dropped = 0;
  private droppedQueueFull = 0;
  private failedExports = 0;
  private readonly outage: Outage;
  private readonly overload = new Overload();
  private readonly sent: InFlightExports;
  private shuttingDown = false;
  /** At shutdown while failing: the first batch's verdict, which the other batches wait for. */
  private finalProbe?: Promise<boolean>;
  private queueSize: () => number = () => 0;

  constructor(
    private readonly inner: SpanExporter,
    readonly name: string,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    backoff: Required<ExportBackoffOptions>,
  ) {
    this.outage = new Outage(backoff);
    this.sent = new InFlightExports(inner, timeoutMs);
  }

  /** Where the queue in front of this exporter reports its length (its RecordBatcher, once built). */
  configure(settings: { queueSize: () => number }): void {
    this.queueSize = settings.queueSize;
  }

  get droppedSpans(): number {
    return this.dropped;
  }

  stats(): ExportStats {
    return {
      exporter: this.name,
      exported: this.exported,
      dropped: this.dropped,
      droppedQueueFull: this.droppedQueueFull,
      failedExports: this.failedExports,
      queued: this.queueSize(),
      inFlight: this.sent.count,
      failing: this.outage.failing,
    };
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const count = spans.length;
    this.received += count;
    const quietOverload = this.overload.endIfQuiet();
    if (quietOverload !== undefined) this.logger.log(queueDrained(this.name, quietOverload));
    const release = (): void => done({ code: ExportResultCode.SUCCESS });

    if (this.shuttingDown) return this.exportAtShutdown(spans, release);

    if (this.outage.failing) {
      if (this.outage.waiting) {
        this.drop(count);
        return release();
      }
      // The probe runs in the background: the queue keeps draining meanwhile.
      this.outage.probing = true;
      this.sent.send(spans, (ok, error) => {
        this.outage.probing = false;
        this.verdict(count, ok, error);
      });
      return release();
    }
    this.sent.send(spans, (ok, error) => {
      this.verdict(count, ok, error);
      release();
    });
  }

  /**
   * From now on the batches that shutdown flushes are all sent at once (MAX_IN_FLIGHT at a
   * time, the rest waiting for a slot rather than being dropped). While failing, they are
   * dropped at once within the back-off period; past it, the first batch probes and the
   * others wait for its verdict. The runtime bounds all of it by shutdownTimeoutMs.
   */
  beginShutdown(): void {
    this.shuttingDown = true;
    this.sent.queueForSlots();
  }

  /**
   * Counts spans the full queue dropped (they never reach export()). While failing they
   * belong to the outage. Otherwise a queue that overflows is an overload, announced once
   * the exporter is known to work (the next success): a queue that fills while the first
   * failing export is still being decided is part of the outage, not a second problem.
   */
  dropQueued(count: number): void {
    this.dropped += count;
    this.droppedQueueFull += count;
    if (this.outage.failing) this.outage.dropped += count;
    else this.overload.queueDropped(count);
  }

  /** Waits for the exports under way (each bounded by the export timeout), then flushes the inner exporter. */
  async forceFlush(): Promise<void> {
    await this.sent.settled();
    await withinTimeout(() => this.inner.forceFlush?.(), this.timeoutMs);
  }

  async shutdown(): Promise<void> {
    await this.sent.settled();
    await withinTimeout(() => this.inner.shutdown(), this.timeoutMs);
  }

  /** Logs what was lost if the app closes while the exporter fails or the queue overflows. */
  reportAtShutdown(): void {
    // spans still in an unsettled export when shutdownTimeoutMs ran out are lost too
    const unsent = this.sent.close();
    if (unsent > 0) this.drop(unsent);
    if (this.outage.failing || unsent > 0) {
      const lost = this.outage.take();
      if (lost > 0) this.logger.warn(exporterDroppedAtShutdown(this.name, lost));
    }
    if (this.overload.active) this.logger.warn(queueDrained(this.name, this.overload.end()));
  }

  private exportAtShutdown(spans: ReadableSpan[], release: () => void): void {
    const count = spans.length;
    const attempt = (): void =>
      this.sent.send(spans, (ok, error) => {
        this.verdict(count, ok, error);
        release();
      });
    if (!this.outage.failing) return attempt();
    if (!this.finalProbe) {
      // within the back-off, or with a probe still out, the collector is known down: close fast
      if (this.outage.waiting) {
        this.drop(count);
        return release();
      }
      this.finalProbe = new Promise<boolean>((resolve) =>
        this.sent.send(spans, (ok, error) => {
          this.verdict(count, ok, error);
          resolve(ok);
          release();
        }),
      );
      return;
    }
    this.sent.unsettledSpans += count;
    void this.finalProbe.then((ok) => {
      if (this.sent.closed) return release();
      this.sent.unsettledSpans -= count;
      if (ok) return attempt();
      this.drop(count);
      release();
    });
  }

  private verdict(count: number, ok: boolean, error: unknown): void {
    if (this.sent.closed) return;
    if (ok) this.succeeded(count);
    else this.failed(count, error);
  }

  private succeeded(count: number): void {
    this.exported += count;
    if (this.overload.announce()) this.logger.warn(queueFull(this.name));
    const dropped = this.outage.recovered();
    if (dropped !== undefined) this.logger.log(exporterRecovered(this.name, dropped));
  }

  private failed(count: number, error: unknown): void {
    this.failedExports++;
    this.drop(count);
    if (this.outage.failed()) {
      // an overload turning into an outage is reported as part of the outage
      this.outage.dropped += this.overload.end();
      this.logger.warn(exporterDown(this.name, error));
    }
  }

  /** Counts a drop in the episode it belongs to: the outage, else the overload under way. */
  private drop(count: number): void {
    this.dropped += count;
    if (this.outage.failing || !this.overload.active) this.outage.dropped += count;
    else this.overload.dropped += count;
  }
}
