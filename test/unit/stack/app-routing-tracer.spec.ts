import 'reflect-metadata';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { context, trace, type Span } from '@opentelemetry/api';
import request from 'supertest';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { AppRoutingTracerProvider } from '../../../lib/instrumentations/contrib/app-routing-tracer.js';

/* The tracer instrumentations get: every form of startSpan/startActiveSpan reaches the app of the request. */
const tracer = new AppRoutingTracerProvider().getTracer('test-instrumentation', '1.2.3');

@Controller()
class Probe {
  @Get('probe')
  probe() {
    tracer.startSpan('plain').end();
    tracer.startActiveSpan('active', (span: Span) => span.end());
    tracer.startActiveSpan('with options', { attributes: { a: 1 } }, (span: Span) => span.end());
    tracer.startActiveSpan('with context', {}, context.active(), (span: Span) => span.end());
    return {};
  }
}

async function boot(serviceName: string): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName, autoTrace: false })],
    controllers: [Probe],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('AppRoutingTracerProvider', () => {
  it("starts each span in the app whose request is active, under the instrumentation's own scope", async () => {
    const first = await boot('first');
    const second = await boot('second');
    try {
      await request(first.getHttpServer()).get('/probe').expect(200);
      const spans = first.get(SpanRecorder).spans();
      const server = first.get(SpanRecorder).find('GET /probe');
      const names = ['plain', 'active', 'with options', 'with context'];
      expect(
        first
          .get(SpanRecorder)
          .childrenOf(server)
          .map((s) => s.name),
      ).toEqual(names);
      for (const span of spans.filter((s) => names.includes(s.name))) {
        expect(span.instrumentationScope).toMatchObject({ name: 'test-instrumentation', version: '1.2.3' });
        expect(span.resource.attributes['service.name']).toBe('first');
      }
      expect(second.get(SpanRecorder).spans()).toEqual([]);
      expect(first.get(SpanRecorder).find('with options').attributes).toEqual({ a: 1 });
      // outside any request: the most recently started app
      tracer.startSpan('outside').end();
      expect(second.get(SpanRecorder).find('outside').parentSpanContext).toBeUndefined();
      expect(trace.getSpan(context.active())).toBeUndefined();
    } finally {
      await first.close();
      await second.close();
    }
  });
});
