/**
 * The OpenTelemetry SDK the peers run on, set up the way NodeSDK would (NodeSDK itself is
 * not a dependency: this is the same TracerProvider, context manager and propagators),
 * exporting through the same batch settings and OTLP exporter as nestjs-tracing, to the
 * same sink. Instrumentations: http, express and nestjs-core, which is what
 * `getNodeAutoInstrumentations()` contributes to a Nest app on Express.
 * Note: instrumentation-nestjs-core declares @nestjs/core <12, so on Nest 12 it
 * produces no spans.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { BATCH } from '../batch-settings.js';

const url = process.env.BENCH_OTLP_URL;
if (!url) throw new Error('BENCH_OTLP_URL is not set');

const provider = new TracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'bench' }),
  spanProcessors: [
    new BatchSpanProcessor({
      exporter: new OTLPTraceExporter({ url, timeoutMillis: BATCH.exportTimeoutMillis }),
      ...BATCH,
    }),
  ],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
);
trace.setGlobalTracerProvider(provider);
registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation(), new NestInstrumentation()],
});

/** For the bench harness: export what the batch processor holds. */
export function flushOtelSdk(): Promise<void> {
  return provider.forceFlush();
}
