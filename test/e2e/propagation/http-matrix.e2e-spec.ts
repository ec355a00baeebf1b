import 'reflect-metadata';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Controller, Get, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { firstValueFrom } from 'rxjs';
import request from 'supertest';
import { type PropagatorName } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { listen, PLATFORMS } from '../../support/platforms.js';
import {
  ALL_PROPAGATORS,
  CALLER,
  DECODE,
  INCOMING,
  lookup,
  MALFORMED,
  TRACE_FORMATS,
  type TraceFormat,
} from '../../support/propagation-formats.js';

/*
 * Each format in, each format out, over HTTP: a neighbour calls the app in one format; the
 * app calls the next service with fetch, @nestjs/axios HttpService or node:http, carrying
 * the context in every format it is configured with; the next service reads each one.
 */
const received: IncomingHttpHeaders[] = [];
const next = http.createServer((req, res) => {
  received.push(req.headers);
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
let nextUrl = '';

type Via = 'fetch' | 'axios' | 'node:http';
const VIAS: Via[] = ['fetch', 'axios', 'node:http'];

@Controller('relay')
class RelayController {
  constructor(private readonly http: HttpService) {}
  @Get(':via')
  async relay(@Param('via') via: Via) {
    if (via === 'fetch') await (await fetch(`${nextUrl}/next`)).arrayBuffer();
    else if (via === 'axios') await firstValueFrom(this.http.get(`${nextUrl}/next`));
    else await new Promise((resolve) => http.get(`${nextUrl}/next`, (res) => res.resume().on('end', resolve)));
    return { via };
  }
}

async function serve(platform: (typeof PLATFORMS)[number], propagators: PropagatorName[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'relay', autoTrace: false, propagators }), HttpModule],
    controllers: [RelayController],
  }).compile();
  const app = await listen(moduleRef, platform);
  return { app, recorder: app.get(SpanRecorder) };
}

beforeAll(async () => {
  await new Promise<void>((resolve) => next.listen(0, '127.0.0.1', resolve));
  nextUrl = `http://127.0.0.1:${(next.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => next.close(resolve)));

describe.each(PLATFORMS)('propagation over HTTP on %s', (platform) => {
  let app: INestApplication;
  let recorder: SpanRecorder;
  beforeAll(async () => {
    ({ app, recorder } = await serve(platform, ALL_PROPAGATORS));
  });
  afterAll(() => app.close());
  beforeEach(() => {
    recorder.reset();
    received.length = 0;
  });

  const spansOfTheRequest = (): { server: ReadableSpan; client: ReadableSpan } => {
    const server = recorder.find('GET /relay/:via');
    const clients = recorder.spans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(clients).toHaveLength(1);
    return { server, client: clients[0]! };
  };

  describe.each(TRACE_FORMATS)('a caller speaking %s', (incoming) => {
    it.each(VIAS)('is continued, and the call made with %s carries every configured format', async (via) => {
      const res = await request(app.getHttpServer()).get(`/relay/${via}`).set(INCOMING[incoming]);
      expect(res.status).toBe(200);
      const { server, client } = spansOfTheRequest();
      expect(server.spanContext().traceId).toBe(CALLER.traceId);
      expect(server.parentSpanContext?.spanId).toBe(CALLER.spanId);
      expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
      expect(received).toHaveLength(1);
      const get = lookup(received[0]!);
      for (const outgoing of TRACE_FORMATS) {
        expect({ outgoing, ...DECODE[outgoing](get) }).toEqual({
          outgoing,
          traceId: CALLER.traceId,
          spanId: client.spanContext().spanId,
          sampled: true,
        });
      }
    });

    it('is answered normally, as a fresh trace, when its header is malformed', async () => {
      const res = await request(app.getHttpServer()).get('/relay/fetch').set(MALFORMED[incoming]);
      expect(res.status).toBe(200);
      const { server } = spansOfTheRequest();
      expect(server.parentSpanContext).toBeUndefined();
      expect(server.spanContext().traceId).not.toBe(CALLER.traceId);
      expect(DECODE.tracecontext(lookup(received[0]!))?.traceId).toBe(server.spanContext().traceId);
    });
  });

  it('reads the first valid format of the configured order: a malformed one is passed over', async () => {
    const other = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };
    await request(app.getHttpServer())
      .get('/relay/node:http')
      .set({ ...MALFORMED.tracecontext, b3: `${other.traceId}-${other.spanId}-1`, ...INCOMING.jaeger });
    expect(recorder.find('GET /relay/:via').parentSpanContext).toMatchObject(other);
  });

  it('carries baggage from Jaeger’s uberctx- headers on as W3C baggage, and back as uberctx-', async () => {
    await request(app.getHttpServer())
      .get('/relay/fetch')
      .set({ ...INCOMING.jaeger, 'uberctx-tenant': 'acme' });
    expect(received[0]).toMatchObject({ baggage: 'tenant=acme', 'uberctx-tenant': 'acme' });
  });

  it('sends the not-sampled decision on in every format', async () => {
    await request(app.getHttpServer())
      .get('/relay/axios')
      .set({ traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-00` });
    expect(recorder.spans()).toEqual([]);
    const get = lookup(received[0]!);
    for (const format of TRACE_FORMATS)
      expect({ format, sampled: DECODE[format](get)?.sampled }).toEqual({ format, sampled: false });
  });
});

/** B3 is one format in two encodings: `b3` and `b3multi` both read either; they differ in what they write. */
const family = (format: TraceFormat): TraceFormat[] => (format.startsWith('b3') ? ['b3', 'b3multi'] : [format]);

describe.each(TRACE_FORMATS)('an app configured with %s alone', (format: TraceFormat) => {
  it('reads only that format and writes only that format', async () => {
    const { app, recorder } = await serve('express', [format]);
    try {
      for (const other of TRACE_FORMATS.filter((f) => !family(format).includes(f))) {
        recorder.reset();
        received.length = 0;
        await request(app.getHttpServer()).get('/relay/node:http').set(INCOMING[other]);
        expect({ other, parent: recorder.find('GET /relay/:via').parentSpanContext }).toEqual({
          other,
          parent: undefined,
        });
      }
      received.length = 0;
      await request(app.getHttpServer()).get('/relay/node:http').set(INCOMING[format]);
      const get = lookup(received[0]!);
      expect(DECODE[format](get)?.traceId).toBe(CALLER.traceId);
      for (const other of TRACE_FORMATS.filter((f) => f !== format)) expect(DECODE[other](get)).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describe('two apps in one process', () => {
  it('each reads and writes its own propagators; the first one’s is also the global propagator', async () => {
    const a = await serve('express', ['b3']);
    const b = await serve('fastify', ['jaeger']);
    try {
      received.length = 0;
      await request(a.app.getHttpServer()).get('/relay/fetch').set(INCOMING.b3);
      await request(b.app.getHttpServer()).get('/relay/node:http').set(INCOMING.jaeger);
      const [fromA, fromB] = received.map(lookup);
      expect([DECODE.b3(fromA!)?.traceId, DECODE.jaeger(fromA!)]).toEqual([CALLER.traceId, undefined]);
      expect([DECODE.jaeger(fromB!)?.traceId, DECODE.b3(fromB!)]).toEqual([CALLER.traceId, undefined]);
      const viaApi: Record<string, string> = {};
      propagation.inject(trace.setSpanContext(ROOT_CONTEXT, { ...CALLER, traceFlags: 1 }), viaApi);
      expect(Object.keys(viaApi)).toEqual(['b3']);
    } finally {
      await b.app.close();
      await a.app.close();
    }
  });
});
