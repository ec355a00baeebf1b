import 'reflect-metadata';
import http from 'node:http';
import https from 'node:https';
import { Controller, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SpanKind } from '@opentelemetry/api';
import request from 'supertest';
import { type TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { consume, Downstream, startApp } from '../support/http-downstream.js';
import { makeCertificates, type TestCertificates } from '../support/tls.js';

/*
 * node:https, and the wrapping itself: a preloaded http instrumentation keeps node:http, the
 * originals come back with the last app, and each request reports to the app that made it.
 */
describe('outgoing node:https requests', () => {
  let certificates: TestCertificates;
  let downstream: Downstream;

  beforeAll(async () => {
    certificates = await makeCertificates();
    downstream = await new Downstream(certificates).start();
  });
  afterAll(() => downstream.close());

  it('https.get and https.request (to a server of a private CA) get their CLIENT span and carry the context', async () => {
    const { app, recorder, tracing } = await startApp();
    try {
      await tracing.startActiveSpan('job', async (span) => {
        await new Promise((resolve) =>
          https.get(`${downstream.url}/secure`, { ca: certificates.ca }, (res) => resolve(consume(res))),
        );
        await new Promise((resolve) => {
          const req = https.request(`${downstream.url}/secure`, { ca: certificates.ca, method: 'PUT' }, (res) =>
            resolve(consume(res)),
          );
          req.end();
        });
        span.end();
      });
      const clients = recorder.spans().filter((s) => s.kind === SpanKind.CLIENT);
      expect(clients.map((s) => s.name)).toEqual(['GET', 'PUT']);
      expect(clients[0]!.attributes['url.full']).toBe(`${downstream.url}/secure`);
      const { traceId, spanId } = clients[1]!.spanContext();
      expect(downstream.last().traceparent).toBe(`00-${traceId}-${spanId}-01`);
    } finally {
      await app.close();
    }
  });
});

describe('node:http wrapping and its neighbours', () => {
  it('leaves node:http to a preloaded OpenTelemetry http instrumentation (shimmer marks it __wrapped)', async () => {
    const saved = { request: http.request, get: http.get };
    const theirs = (fn: typeof http.request) =>
      Object.defineProperty(
        function (this: unknown, ...args: unknown[]) {
          return (fn as (...a: unknown[]) => http.ClientRequest).apply(this, args);
        },
        '__wrapped',
        { value: true },
      );
    http.request = theirs(saved.request) as typeof http.request;
    http.get = theirs(saved.get as typeof http.request) as typeof http.get;
    const downstream = await new Downstream().start();
    const { app, recorder, tracing } = await startApp();
    try {
      const wrappedByThem = http.request;
      await tracing.startActiveSpan('job', async (span) => {
        await new Promise((resolve) => http.get(`${downstream.url}/x`, (res) => resolve(consume(res))));
        span.end();
      });
      expect(http.request).toBe(wrappedByThem);
      expect(recorder.spans().map((s) => s.name)).toEqual(['job']);
    } finally {
      await app.close();
      await downstream.close();
      http.request = saved.request;
      http.get = saved.get;
    }
  });

  it('is not installed with traceOutgoingHttp: false, and is gone once the last app has closed', async () => {
    const original = http.request;
    const off = await startApp({ traceOutgoingHttp: false });
    expect(http.request).toBe(original);
    const on = await startApp();
    expect(http.request).not.toBe(original);
    await on.app.close();
    expect(http.request).toBe(original);
    await off.app.close();
  });

  it('reports a request to the app whose request made it, and adds nothing for an app that turned it off', async () => {
    const downstream = await new Downstream().start();
    @Controller('call')
    class CallController {
      @Get()
      call() {
        return new Promise((resolve) => http.get(`${downstream.url}/x`, (res) => resolve(consume(res))));
      }
    }
    const serve = async (options: TracingModuleOptions) => {
      const moduleRef = await Test.createTestingModule({
        imports: [TracingTestingModule.forRoot({ autoTrace: false, ...options })],
        controllers: [CallController],
      }).compile();
      const app = await moduleRef.createNestApplication({ logger: false }).init();
      return { app, recorder: app.get(SpanRecorder) };
    };
    const a = await serve({ serviceName: 'a' });
    const b = await serve({ serviceName: 'b', traceOutgoingHttp: false });
    try {
      expect((await request(a.app.getHttpServer()).get('/call')).status).toBe(200);
      const [client, server] = a.recorder.spans();
      expect([client?.name, server?.name]).toEqual(['GET', 'GET /call']);
      expect(client!.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
      expect(downstream.last().traceparent).toBe(
        `00-${client!.spanContext().traceId}-${client!.spanContext().spanId}-01`,
      );

      expect((await request(b.app.getHttpServer()).get('/call')).status).toBe(200);
      expect(b.recorder.spans().map((s) => s.name)).toEqual(['GET /call']);
      expect(a.recorder.spans()).toHaveLength(2);
      expect(downstream.last().traceparent).toBeUndefined();
    } finally {
      await b.app.close();
      await a.app.close();
      await downstream.close();
    }
  });
});
