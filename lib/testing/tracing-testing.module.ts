import { Module, type DynamicModule } from '@nestjs/common';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { TracingModuleOptions } from '../options/tracing-options.interface.js';
import { OWN_MODULE } from '../tracing.constants.js';
import { TracingModule } from '../tracing.module.js';
import { RECORDED_SPANS, SpanRecorder } from './span-recorder.js';

/**
 * TracingModule for tests: every span the app records goes to an in-memory SpanRecorder
 * as soon as it ends, and nothing to the network unless `exporter` says otherwise.
 * Everything else (automatic spans, sampling, limits, redaction) is the real module's.
 */
@Module({})
export class TracingTestingModule {
  static readonly [OWN_MODULE] = true;

  static forRoot(options: TracingModuleOptions = {}): DynamicModule {
    const exporter = new InMemorySpanExporter();
    return {
      module: TracingTestingModule,
      global: true,
      imports: [
        TracingModule.forRoot({
          ...options,
          exporter: options.exporter ?? 'none',
          spanProcessors: [...(options.spanProcessors ?? []), new SimpleSpanProcessor({ exporter })],
        }),
      ],
      providers: [{ provide: RECORDED_SPANS, useValue: exporter }, SpanRecorder],
      exports: [SpanRecorder, TracingModule],
    };
  }
}
