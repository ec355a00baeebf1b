import 'reflect-metadata';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import axios from 'axios';
import request from 'supertest';
import superagent from 'superagent';
import { TraceService, type TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { freePort } from '../support/ports.js';
import { makeCertificates, type TestCertificates } from '../support/tls.js';

/*
 * Outgoing node:http / node:https requests, however they are made: the request functions
 * in each of their call forms, a keep-alive agent, https, a request that fails, and
 * clients built on them. The service called records the headers it receives.
 */
class Downstream {
  readonly received: IncomingHttpHeaders[] = [];
  url = '';
  private server?: http.Server | https.Server;

  constructor(private readonly tls?: TestCertificates) {}

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: http.ServerResponse) => {
      this.received.push(req.headers);
      if (req.url?.startsWith('/boom')) return void res.writeHead(500).end('boom');
      if (req.url?.startsWith('/half')) {
        res.writeHead(200, { 'content-length': '100' }).write('partial');
        return void setImmediate(() => res.socket?.destroy());
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    };
    this.server = this.tls
      ? https.createServer({ cert: this.tls.serverCert, key: this.tls.serverKey }, handler)
      : http.createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  last(): IncomingHttpHeaders {
    return this.received[this.received.length - 1]!;
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

/** Waits for the whole response: that is when the CLIENT span ends. */
function consume(res: IncomingMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode ?? 0));
    res.on('error', reject);
  });
}

/** The request's own 'close', after which its span has ended. */
const closed = (req: http.ClientRequest) => new Promise<void>((resolve) => req.once('close', () => resolve()));

async function startApp(options: TracingModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'caller', autoTrace: false, ...options })],
  }).compile();
  const app = await moduleRef.createNestApplication({ logger: false }).init();
  return { app, recorder: app.get(SpanRecorder), tracing: app.get(TraceService) };
}

describe('outgoing node:http and node:https requests', () => {
  let app: INestApplication;
  let recorder: SpanRecorder;
  let tracing: TraceService;
  let downstream: Downstream;
  const originals = { request: http.request, get: http.get, httpsRequest: https.request, httpsGet: https.get };

  /** Runs `call` inside a `job` span; returns the job span and the one CLIENT span it made. */
  async function inJob(call: () => Promise<unknown>): Promise<{ job: ReadableSpan; client: ReadableSpan }> {
    recorder.reset();
    await tracing.startActiveSpan('job', async (span) => {
      try {
        await call();
      } finally {
        span.end();
      }
    });
    const job = recorder.find('job');
    const clients = recorder.spans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(clients).toHaveLength(1);
    return { job, client: clients[0]! };
  }

  const expectContinued = (client: ReadableSpan, headers: IncomingHttpHeaders) => {
    const { traceId, spanId } = client.spanContext();
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  };

  beforeAll(async () => {
    downstream = await new Downstream().start();
    ({ app, recorder, tracing } = await startApp());
  });
  afterAll(async () => {
    await app.close();
    await downstream.close();
  });

  it('http.get(url, callback): a CLIENT span under the caller, with the attributes fetch gets, and the context sent', async () => {
    const { job, client } = await inJob(
      () => new Promise((resolve) => http.get(`${downstream.url}/prices/abc?secret=1`, (res) => resolve(consume(res)))),
    );
    expect(client.name).toBe('GET');
    expect(client.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
    expect(client.spanContext().traceId).toBe(job.spanContext().traceId);
    expect(client.attributes).toEqual({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(downstream.url).port),
      'url.full': `${downstream.url}/prices/abc`,
      'http.response.status_code': 200,
    });
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
    expectContinued(client, downstream.last());
  });

  it('http.request(url, options, callback) + end()', async () => {
    const { client } = await inJob(
      () =>
        new Promise((resolve) => {
          const req = http.request(`${downstream.url}/items`, { method: 'POST' }, (res) => resolve(consume(res)));
          req.end('{}');
        }),
    );
    expect(client.name).toBe('POST');
    expect(client.attributes['http.request.method']).toBe('POST');
    expectContinued(client, downstream.last());
  });

  it("http.request(options) with a 'response' listener and end(), keeping headers the caller set", async () => {
    const { port } = new URL(downstream.url);
    const { client } = await inJob(
      () =>
        new Promise((resolve) => {
          const req = http.request({ host: '127.0.0.1', port, path: '/x', headers: { 'x-caller': 'kept' } });
          req.on('response', (res) => resolve(consume(res)));
          req.end();
        }),
    );
    expect(client.attributes['url.full']).toBe(`${downstream.url}/x`);
    expect(downstream.last()['x-caller']).toBe('kept');
    expectContinued(client, downstream.last());
  });

  it('a request with no response listener is still drained and its span ends', async () => {
    const { client } = await inJob(() => closed(http.get(`${downstream.url}/fire-and-forget`)));
    expect(client.attributes['http.response.status_code']).toBe(200);
  });

  it('keeps each request of a keep-alive agent in its own trace', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await inJob(
        () => new Promise((resolve) => http.get(`${downstream.url}/a`, { agent }, (res) => resolve(consume(res)))),
      );
      const firstHeaders = downstream.last();
      const second = await inJob(
        () => new Promise((resolve) => http.get(`${downstream.url}/b`, { agent }, (res) => resolve(consume(res)))),
      );
      expect(second.client.spanContext().traceId).not.toBe(first.client.spanContext().traceId);
      expectContinued(first.client, firstHeaders);
      expectContinued(second.client, downstream.last());
      expect(second.client.parentSpanContext?.spanId).toBe(second.job.spanContext().spanId);
    } finally {
      agent.destroy();
    }
  });

  it('marks a 5xx answer as an error, as for fetch', async () => {
    const { client } = await inJob(
      () => new Promise((resolve) => http.get(`${downstream.url}/boom`, (res) => resolve(consume(res)))),
    );
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
  });

  it('records a request that cannot connect, without adding an error listener of its own', async () => {
    const url = `http://127.0.0.1:${await freePort()}/`;
    let listeners = -1;
    const { client } = await inJob(
      () =>
        new Promise<void>((resolve) => {
          const req = http.get(url);
          listeners = req.listenerCount('error');
          req.on('error', () => undefined);
          req.on('close', () => resolve());
        }),
    );
    // an unhandled request error must still be thrown, as without tracing
    expect(listeners).toBe(0);
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes['error.type']).toBe('ECONNREFUSED');
    expect(client.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('records a response cut off before its end', async () => {
    const { client } = await inJob(
      () =>
        new Promise<void>((resolve) => {
          const req = http.get(`${downstream.url}/half`, (res) => {
            res.on('error', () => undefined);
            res.resume();
          });
          req.on('close', () => resolve());
        }),
    );
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes['http.response.status_code']).toBe(200);
    expect(client.attributes['error.type']).toBeDefined();
  });

  it('traces a bare axios instance and superagent (clients built on node:http), once each', async () => {
    const viaAxios = await inJob(() => axios.create().get(`${downstream.url}/axios`));
    expect(viaAxios.client.attributes['url.full']).toBe(`${downstream.url}/axios`);
    expectContinued(viaAxios.client, downstream.last());
    const viaSuperagent = await inJob(() => superagent.get(`${downstream.url}/superagent`));
    expect(viaSuperagent.client.attributes['http.response.status_code']).toBe(200);
    expectContinued(viaSuperagent.client, downstream.last());
  });

  it('adds no span and no header outside a trace (a library’s start-up or background call)', async () => {
    recorder.reset();
    await new Promise((resolve) => http.get(`${downstream.url}/untraced`, (res) => resolve(consume(res))));
    expect(recorder.spans()).toEqual([]);
    expect(downstream.last().traceparent).toBeUndefined();
  });

  it('keeps the name and length of what it wraps, and puts the originals back when the app closes', async () => {
    expect(http.request).not.toBe(originals.request);
    expect([http.request.name, http.get.name, https.request.name, https.get.name]).toEqual([
      'request',
      'get',
      'request',
      'get',
    ]);
    expect(http.request.length).toBe(originals.request.length);
    expect(http.get.length).toBe(originals.get.length);
    const other = await startApp({ serviceName: 'second' });
    await other.app.close();
    // still wrapped: the first app runs
    expect(http.request).not.toBe(originals.request);
  });
});

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
