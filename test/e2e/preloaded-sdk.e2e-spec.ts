import 'reflect-metadata';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import request from 'supertest';
import { Trace, TracingModule } from 'nestjs-tracing';
import { listen } from '../support/platforms.js';

@Controller('ping')
class PingController {
  @Get()
  @Trace()
  ping() {
    return 'pong';
  }
}

/* What `node --import ./otel.mjs main.js` leaves behind: a registered SDK that owns export. */
describe('with an OpenTelemetry SDK already registered', () => {
  const preloaded = new InMemorySpanExporter();
  const ours = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: preloaded })] });
  let app: INestApplication;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    const moduleRef = await Test.createTestingModule({
      imports: [TracingModule.forRoot({ serviceName: 'ignored', exporter: ours })],
      controllers: [PingController],
    }).compile();
    app = await listen(moduleRef, 'express');
  });
  afterAll(async () => {
    trace.disable();
    propagation.disable();
    context.disable();
    await provider.shutdown();
  });

  it('still propagates context on outgoing fetch calls, under its provider', async () => {
    const server = app.getHttpServer();
    const { port } = server.address();
    await context.with(trace.setSpan(context.active(), provider.getTracer('t').startSpan('job')), () =>
      fetch(`http://127.0.0.1:${port}/ping`),
    );
    const spans = preloaded.getFinishedSpans();
    const client = spans.find((s) => s.name === 'GET' && s.attributes['url.full'])!;
    const served = spans.find((s) => s.name === 'GET /ping')!;
    expect(served.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    preloaded.reset();
  });

  it('uses it instead of starting a second provider, and leaves its shutdown to it', async () => {
    const res = await request(app.getHttpServer())
      .get('/ping')
      .set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(res.text).toBe('pong');
    await app.close();
    const spans = preloaded.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['GET /ping', 'PingController.ping']);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set(['0af7651916cd43dd8448eb211c80319c']));
    expect(ours.getFinishedSpans()).toEqual([]);
    expect((trace.getTracerProvider() as unknown as { getDelegate(): unknown }).getDelegate()).toBe(provider);
  });
});
