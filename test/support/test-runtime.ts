import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { resolveOptions } from '../../lib/options/resolve-options.js';
import { TracingRuntime } from '../../lib/runtime/tracing-runtime.js';
import type { TracingModuleOptions } from '../../lib/options/tracing-options.interface.js';

/** A started runtime without a Nest app, for unit tests of decorators and services. */
export interface TestRuntime {
  runtime: TracingRuntime;
  spans(): Promise<ReadableSpan[]>;
  reset(): void;
  stop(): Promise<void>;
}

export async function startTestRuntime(options: TracingModuleOptions = {}): Promise<TestRuntime> {
  const exporter = new InMemorySpanExporter();
  const runtime = await TracingRuntime.start(resolveOptions({ serviceName: 'unit', exporter, ...options }));
  return {
    runtime,
    async spans() {
      await runtime.forceFlush();
      return exporter.getFinishedSpans();
    },
    reset: () => exporter.reset(),
    async stop() {
      await runtime.shutdown();
    },
  };
}
