/**
 * The micro cases run in Nest apps with TracingModule, as a user's code does: the same
 * provider, span records, batcher, export guard and sampler. Outside a request, traced code reports to the most recently started app.
 */
import { Module, type DynamicModule, type INestApplication, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProxyTracerProvider, trace, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type Sampler, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { TraceService, TracingModule, type TracingModuleOptions } from 'nestjs-tracing';
import { BATCH } from '../batch-settings.js';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** More for the app than the defaults: module options (e.g. `autoTrace`) and providers. */
export interface MicroAppExtras {
  tracing?: Partial<TracingModuleOptions>;
  providers?: Provider[];
}

export interface MicroApp {
  app: INestApplication;
  /** The app's HTTP server (not listening): emit 'request' on it to go through the library's server span. */
  server: Server;
  tracing: TraceService;
  close(): Promise<void>;
}

@Module({})
class MicroModule {
  static with(exporter: SpanExporter, sampleRatio: number, extra: MicroAppExtras = {}): DynamicModule {
    return {
      module: MicroModule,
      imports: [TracingModule.forRoot({ serviceName: 'bench-micro', exporter, sampleRatio, ...extra.tracing })],
      providers: extra.providers ?? [],
    };
  }
}

/**
 * A Nest app whose HTTP server answers with `handler` instead of the framework's router,
 * so the request path can be measured without sockets and HTTP parsing: TracingModule
 * wraps whatever 'request' listener the server has when the app initialises.
 */
export async function startMicroApp(
  exporter: SpanExporter,
  sampleRatio: number,
  handler: RequestListener = () => {},
  extra: MicroAppExtras = {},
): Promise<MicroApp> {
  const app = await NestFactory.create(MicroModule.with(exporter, sampleRatio, extra), { logger: false });
  const server = app.getHttpServer() as Server;
  if (server.listenerCount('request') !== 1) throw new Error('expected the framework to own one request listener');
  server.removeAllListeners('request');
  server.on('request', handler);
  await app.init();
  return { app, server, tracing: app.get(TraceService), close: () => app.close() };
}

/**
 * A tracer of the first app's provider: it registers itself as the global one, so code
 * using the OpenTelemetry API directly reports to it. Taken from behind the API's proxy,
 * as the library's own tracer is, so that raw and decorated cases pay the same.
 */
export function globalSdkTracer(name: string): Tracer {
  return (trace.getTracerProvider() as ProxyTracerProvider).getDelegate().getTracer(name);
}

/** A plain SDK provider, no nestjs-tracing: a batch processor only, and the SDK's default sampler unless given one. */
export function rawProvider(exporter: SpanExporter, sampler?: Sampler): TracerProvider {
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-floor' }),
    ...(sampler ? { sampler } : {}),
    spanProcessors: [new BatchSpanProcessor({ exporter, ...BATCH })],
  });
}
