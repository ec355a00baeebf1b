/** What one exporter has done so far; see `TraceService.exportStats()`. */
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
