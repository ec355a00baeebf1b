import type { Logger } from '@nestjs/common';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import {
  exporterDown,
  exporterDroppedAtShutdown,
  exporterRecovered,
  queueDrained,
  queueFull,
  unfinishedExports,
} from '../options/messages.js';
import type { ExportBackoffOptions } from '../options/tracing-options.interface.js';
import { isThenable } from '../engine/thenable.js';

/**
 * Exports handed to the inner exporter that it has not answered yet. Beyond this many the
 * guard stops calling it: a collector that hangs (or an exporter that never calls back)
 * can hold at most this many batches, with their request buffers and sockets.
 */
export const MAX_IN_FLIGHT = 4;

/**
 * The inner exporter has its own timeout (the same exportTimeoutMillis, for OTLP): the
 * guard's own timer, for exporters that never answer, fires this much later so that an
 * answer arriving just in time is not counted as dropped and delivered both. The batch
 * processor's timeout is 1000 ms longer still.
 */
const TIMEOUT_GRACE_MS = 250;

/** A full queue counts as an overload episode until no span has been dropped for this long. */
const OVERLOAD_QUIET_MS = 5000;

/** What one exporter has done so far; see `TracingRuntime.exportStats()`. */
export interface ExportStats {
  exporter: string;
  /** Spans the exporter reported as delivered. */
  exported: number;
  /** Spans dropped: collector failing, exporter misbehaving, queue full, or not sent by shutdown. */
  dropped: number;
  /** Of those, spans dropped because the queue was full (`batch.maxQueueSize`). */
  droppedQueueFull: number;
  /** Exports (batches) that failed: an error, a throw, a rejection or no answer in time. */
  failedExports: number;
  /** Spans waiting in the batch queue. */
  queued: number;
  /** Exports the inner exporter has not answered yet (at most MAX_IN_FLIGHT outside shutdown). */
  inFlight: number;
  /** True while the exporter is failing and spans are dropped. */
  failing: boolean;
}

type Verdict = (ok: boolean, error?: unknown) => void;

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
  private failing = false;
  private droppedInOutage = 0;
  private retryMs: number;
  private nextAttemptAt = 0;
  private probing = false;
  private inFlight = 0;
  /** Spans in exports the guard has not settled yet (sent, or waiting for a slot at shutdown). */
  private unsettledSpans = 0;
  private readonly settling = new Set<Promise<void>>();
  private readonly slotWaiters: Array<() => void> = [];
  private finalFlush = false;
  private closed = false;
  private finalProbe?: Promise<boolean>;
  private overloaded = false;
  private overloadAnnounced = false;
  private droppedInOverload = 0;
  private lastQueueDropAt = 0;
  private queueSize: () => number = () => 0;

  constructor(
    private readonly inner: SpanExporter,
    readonly name: string,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    private readonly backoff: Required<ExportBackoffOptions>,
  ) {
    this.retryMs = backoff.initialMs;
  }

  /** Where the queue in front of this exporter reports its length (a CountedQueue, once built). */
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
      inFlight: this.inFlight,
      failing: this.failing,
    };
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const count = spans.length;
    this.received += count;
    this.checkOverloadOver();
    const release = (): void => done({ code: ExportResultCode.SUCCESS });

    if (this.finalFlush) return this.exportAtShutdown(spans, release);

    if (this.failing) {
      if (this.probing || Date.now() < this.nextAttemptAt) {
        this.drop(count);
        return release();
      }
      // The probe runs in the background: the queue keeps draining meanwhile.
      this.probing = true;
      this.send(spans, (ok, error) => {
        this.probing = false;
        this.verdict(count, ok, error);
      });
      return release();
    }
    this.send(spans, (ok, error) => {
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
    this.finalFlush = true;
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
    if (this.failing) {
      this.droppedInOutage += count;
      return;
    }
    this.lastQueueDropAt = Date.now();
    this.droppedInOverload += count;
    this.overloaded = true;
  }

  /** Waits for the exports under way (each bounded by the export timeout), then flushes the inner exporter. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.settling]);
    await this.boundedInner(() => this.inner.forceFlush?.());
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.settling]);
    await this.boundedInner(() => this.inner.shutdown());
  }

  /** Logs what was lost if the app closes while the exporter fails or the queue overflows. */
  reportAtShutdown(): void {
    // spans still in an unsettled export when shutdownTimeoutMs ran out are lost too
    const unsent = this.unsettledSpans;
    this.unsettledSpans = 0;
    this.closed = true;
    if (unsent > 0) this.drop(unsent);
    if (this.failing || unsent > 0) {
      if (this.droppedInOutage > 0) this.logger.warn(exporterDroppedAtShutdown(this.name, this.droppedInOutage));
      this.droppedInOutage = 0;
    }
    if (this.overloaded) {
      this.logger.warn(queueDrained(this.name, this.droppedInOverload));
      this.overloaded = this.overloadAnnounced = false;
      this.droppedInOverload = 0;
    }
  }

  private exportAtShutdown(spans: ReadableSpan[], release: () => void): void {
    const count = spans.length;
    const attempt = (): void =>
      this.send(spans, (ok, error) => {
        this.verdict(count, ok, error);
        release();
      });
    if (!this.failing) return attempt();
    if (!this.finalProbe) {
      // within the back-off, or with a probe still out, the collector is known down: close fast
      if (this.probing || Date.now() < this.nextAttemptAt) {
        this.drop(count);
        return release();
      }
      this.finalProbe = new Promise<boolean>((resolve) =>
        this.send(spans, (ok, error) => {
          this.verdict(count, ok, error);
          resolve(ok);
          release();
        }),
      );
      return;
    }
    this.unsettledSpans += count;
    void this.finalProbe.then((ok) => {
      if (this.closed) return release();
      this.unsettledSpans -= count;
      if (ok) return attempt();
      this.drop(count);
      release();
    });
  }

  /**
   * Hands a batch to the inner exporter and reports exactly once: its answer, a throw,
   * or a timeout. Outside shutdown, a batch finding MAX_IN_FLIGHT exports unanswered fails
   * at once; at shutdown it waits for a slot.
   */
  private send(spans: ReadableSpan[], verdict: Verdict): void {
    const count = spans.length;
    this.unsettledSpans += count;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.settling.add(settled);
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (ok: boolean, error?: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.settling.delete(settled);
      settle();
      // after reportAtShutdown these spans were already counted as lost
      if (!this.closed) this.unsettledSpans -= count;
      verdict(ok, error);
    };
    const start = (): void => {
      const ms = this.timeoutMs + TIMEOUT_GRACE_MS;
      timer = setTimeout(() => finish(false, new Error(`no answer within ${ms} ms`)), ms);
      timer.unref?.();
      this.inFlight++;
      let answered = false;
      const answer = (ok: boolean, error?: unknown): void => {
        if (answered) return;
        answered = true;
        this.inFlight--;
        this.slotWaiters.shift()?.();
        finish(ok, error);
      };
      try {
        const returned: unknown = this.inner.export(spans, (result) =>
          answer(result?.code === ExportResultCode.SUCCESS, result?.error),
        );
        // an async export() that rejects instead of calling back: a failure, never an unhandled rejection
        if (isThenable(returned)) returned.then(undefined, (error: unknown) => answer(false, error));
      } catch (error) {
        answer(false, error);
      }
    };
    if (this.inFlight < MAX_IN_FLIGHT) return start();
    if (!this.finalFlush) return finish(false, new Error(unfinishedExports(MAX_IN_FLIGHT)));
    this.slotWaiters.push(start);
  }

  private verdict(count: number, ok: boolean, error: unknown): void {
    if (this.closed) return;
    if (ok) this.succeeded(count);
    else this.failed(count, error);
  }

  private succeeded(count: number): void {
    this.exported += count;
    if (this.overloaded && !this.overloadAnnounced) {
      this.overloadAnnounced = true;
      this.logger.warn(queueFull(this.name));
    }
    if (!this.failing) return;
    this.failing = false;
    this.retryMs = this.backoff.initialMs;
    this.logger.log(exporterRecovered(this.name, this.droppedInOutage));
    this.droppedInOutage = 0;
  }

  private failed(count: number, error: unknown): void {
    this.failedExports++;
    this.drop(count);
    if (!this.failing) {
      this.failing = true;
      // an overload turning into an outage is reported as part of the outage
      this.droppedInOutage += this.droppedInOverload;
      this.overloaded = this.overloadAnnounced = false;
      this.droppedInOverload = 0;
      this.logger.warn(exporterDown(this.name, error));
    } else {
      this.retryMs = Math.min(this.retryMs * 2, this.backoff.maxMs);
    }
    this.nextAttemptAt = Date.now() + this.retryMs;
  }

  private drop(count: number): void {
    this.dropped += count;
    if (this.failing || !this.overloaded) this.droppedInOutage += count;
    else this.droppedInOverload += count;
  }

  private checkOverloadOver(): void {
    if (!this.overloadAnnounced || Date.now() - this.lastQueueDropAt < OVERLOAD_QUIET_MS) return;
    this.overloaded = this.overloadAnnounced = false;
    this.logger.log(queueDrained(this.name, this.droppedInOverload));
    this.droppedInOverload = 0;
  }

  private async boundedInner(work: () => Promise<void> | void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(work),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.timeoutMs);
          timer.unref?.();
        }),
      ]);
    } catch {
      // a flush or shutdown failure is an export failure, already counted by export()
    } finally {
      clearTimeout(timer);
    }
  }
}
