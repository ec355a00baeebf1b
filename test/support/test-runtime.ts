import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';

/**
 * A Nest application context with nothing but tracing in it, for unit tests of decorators
 * and TraceService on plain classes: outside a request, traced code reports to the most
 * recently started app, so these tests need no HTTP server.
 */
export interface TestRuntime {
  app: INestApplicationContext;
  spans(): Promise<ReadableSpan[]>;
  reset(): void;
  stop(): Promise<void>;
}

export async function startTestRuntime(options: TracingModuleOptions = {}): Promise<TestRuntime> {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'unit', ...options })],
  }).compile();
  const app = await moduleRef.init();
  const recorder = app.get(SpanRecorder);
  return {
    app,
    spans: async () => recorder.spans(),
    reset: () => recorder.reset(),
    stop: () => app.close(),
  };
}
