/**
 * Batch processor settings every traced target uses: nestjs-tracing's defaults
 * (lib/options/resolve-options.ts), given explicitly to the peers so that all of them batch,
 * queue and time out alike.
 */
export const BATCH = {
  maxQueueSize: 8192,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 10000,
} as const;
