import type { ExportBackoffOptions } from '../options/tracing-options.interface.js';

/** A full queue counts as an overload episode until no span has been dropped for this long. */
const OVERLOAD_QUIET_MS = 5000;

/**
 * An exporter outage: failing from the first failed export until the next success, with
 * one probe batch let through per back-off period (doubling up to maxMs), one at a time.
 */
export class Outage {
  failing = false;
  /** A probe batch is out and has no verdict yet. */
  probing = false;
  /** Spans lost in this outage, to say in the line that ends it. */
  dropped = 0;
  private retryMs: number;
  private nextAttemptAt = 0;

  constructor(private readonly backoff: Required<ExportBackoffOptions>) {
    this.retryMs = backoff.initialMs;
  }

  /** With a probe out or within the back-off period, a batch now would only be dropped. */
  get waiting(): boolean {
    return this.probing || Date.now() < this.nextAttemptAt;
  }

  /** A failed export: returns true when it starts the outage. Schedules the next probe. */
  failed(): boolean {
    const starts = !this.failing;
    if (starts) this.failing = true;
    else this.retryMs = Math.min(this.retryMs * 2, this.backoff.maxMs);
    this.nextAttemptAt = Date.now() + this.retryMs;
    return starts;
  }

  /** A successful export: ends the outage, if any; returns what it dropped, or undefined without one. */
  recovered(): number | undefined {
    if (!this.failing) return undefined;
    this.failing = false;
    this.retryMs = this.backoff.initialMs;
    return this.take();
  }

  /** The spans dropped so far, counted from zero again. */
  take(): number {
    const dropped = this.dropped;
    this.dropped = 0;
    return dropped;
  }
}

/**
 * A queue that overflows while the exporter works (export slower than span production):
 * announced at the next success, over once no span was dropped for OVERLOAD_QUIET_MS.
 */
export class Overload {
  active = false;
  /** Spans the full queue dropped in this episode (and drops while it lasts). */
  dropped = 0;
  private announced = false;
  private lastDropAt = 0;

  queueDropped(count: number): void {
    this.lastDropAt = Date.now();
    this.dropped += count;
    this.active = true;
  }

  /** On a successful export: true once per episode, when it is time to announce it. */
  announce(): boolean {
    if (!this.active || this.announced) return false;
    this.announced = true;
    return true;
  }

  /** An announced episode with no drop for OVERLOAD_QUIET_MS is over: returns its drops, else undefined. */
  endIfQuiet(): number | undefined {
    if (!this.announced || Date.now() - this.lastDropAt < OVERLOAD_QUIET_MS) return undefined;
    return this.end();
  }

  /** Ends the episode now (it became part of an outage, or the app closes): returns its drops. */
  end(): number {
    this.active = this.announced = false;
    const dropped = this.dropped;
    this.dropped = 0;
    return dropped;
  }
}
