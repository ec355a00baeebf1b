import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { JaegerOptions } from '../options/tracing-options.interface.js';
import { jaegerNotInstalled } from '../options/messages.js';

const FLUSH_TIMEOUT_MS = 2000;

interface JaegerInternals {
  _flush(): Promise<void>;
  _sender?: { close(): void };
}

/**
 * Loaded only when chosen: the package is deprecated upstream and pulls in jaeger-client.
 * Its shutdown races the flush against a timer it never clears, which holds the process
 * open for two seconds after the app has closed; 2.11.0 is its last release, so the same
 * bounded flush is done here with a timer that does not keep the process alive.
 */
export async function createJaegerExporter(options: JaegerOptions): Promise<SpanExporter> {
  let mod: typeof import('@opentelemetry/exporter-jaeger');
  try {
    mod = await import('@opentelemetry/exporter-jaeger');
  } catch {
    throw new Error(jaegerNotInstalled());
  }
  const { endpoint, host, port, username, password } = options;
  const exporter = new mod.JaegerExporter(endpoint ? { endpoint, username, password } : { host, port });
  const internals = exporter as unknown as JaegerInternals;
  if (typeof internals._flush !== 'function') return exporter;
  let closed: Promise<void> | undefined;
  exporter.shutdown = () => (closed ??= boundedFlush(internals));
  return exporter;
}

async function boundedFlush(exporter: JaegerInternals): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error('Jaeger flush timed out')), FLUSH_TIMEOUT_MS);
    timer.unref();
  });
  try {
    await Promise.race([exporter._flush(), timeout]);
  } finally {
    clearTimeout(timer);
    exporter._sender?.close();
  }
}
