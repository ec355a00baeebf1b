import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { isThenable } from '../engine/thenable.js';
import { unfinishedExports } from '../options/messages.js';

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

/** Called exactly once per batch: delivered or not, and why not. */
export type Verdict = (ok: boolean, error?: unknown) => void;

/**
 * The batches handed to the inner exporter and not settled yet: at most MAX_IN_FLIGHT at
 * a time, each bounded by a timeout, each settled exactly once whatever the exporter does.
 */
export class InFlightExports {
  /** Exports the inner exporter has not answered yet. */
  count = 0;
  /** Spans in exports not settled yet (sent, or waiting for a slot or a verdict at shutdown). */
  unsettledSpans = 0;
  private readonly settling = new Set<Promise<void>>();
  private readonly slotWaiters: Array<() => void> = [];
  private waitForSlots = false;
  private isClosed = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly timeoutMs: number,
  ) {}

  /** True once the app's shutdown gave up on what is still unsettled. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** From now on a batch finding every slot taken waits for one instead of failing (shutdown). */
  queueForSlots(): void {
    this.waitForSlots = true;
  }

  /** Resolves when every export sent so far has settled. */
  async settled(): Promise<void> {
    await Promise.all([...this.settling]);
  }

  /** Gives up on what is unsettled (the shutdown timeout ran out); returns how many spans that is. */
  close(): number {
    const unsent = this.unsettledSpans;
    this.unsettledSpans = 0;
    this.isClosed = true;
    return unsent;
  }

  /**
   * Hands a batch to the inner exporter and reports exactly once: its answer, a throw,
   * or a timeout. Outside shutdown, a batch finding MAX_IN_FLIGHT exports unanswered fails
   * at once; at shutdown it waits for a slot.
   */
  send(spans: ReadableSpan[], verdict: Verdict): void {
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
      // after close() these spans were already counted as lost
      if (!this.isClosed) this.unsettledSpans -= count;
      verdict(ok, error);
    };
    const start = (): void => {
      const ms = this.timeoutMs + TIMEOUT_GRACE_MS;
      timer = setTimeout(() => finish(false, new Error(`no answer within ${ms} ms`)), ms);
      timer.unref?.();
      this.count++;
      let answered = false;
      const answer = (ok: boolean, error?: unknown): void => {
        if (answered) return;
        answered = true;
        this.count--;
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
    if (this.count < MAX_IN_FLIGHT) return start();
    if (!this.waitForSlots) return finish(false, new Error(unfinishedExports(MAX_IN_FLIGHT)));
    this.slotWaiters.push(start);
  }
}

/** Runs `work` (the inner exporter's flush or shutdown) for at most `ms`; never rejects. */
export async function withinTimeout(work: () => Promise<void> | void, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(work),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
        timer.unref?.();
      }),
    ]);
  } catch {
    // a flush or shutdown failure is an export failure, already counted by export()
  } finally {
    clearTimeout(timer);
  }
}
