import 'reflect-metadata';
import { Controller, Get, Injectable, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { SpanAttr, Trace, TraceService, TracingModule, type TracingModuleOptions } from 'nestjs-tracing';
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from '../support/otlp-grpc-receiver.js';
import { startOtlpHttpReceiver, type OtlpHttpReceiver } from '../support/otlp-http-receiver.js';
import { listen, PLATFORMS, type Platform } from '../support/platforms.js';
import type { ReceivedSpan, SpanSink } from '../support/received-span.js';
import { makeCertificates, type TestCertificates } from '../support/tls.js';
import { startZipkinReceiver, type ZipkinReceiver } from '../support/zipkin-receiver.js';

/*
 * Zipkin v2 JSON and OTLP in each protocol, decoded off the wire by receivers that speak
 * them for real (a grpc-js TraceService server for gRPC), with the options that change what
 * goes on the wire: compression, headers, TLS and mutual TLS.
 */
@Injectable()
class StockService {
  constructor(private readonly tracing: TraceService) {}
  @Trace()
  reserve(@SpanAttr('stock.sku') sku: string) {
    this.tracing.addEvent('stock.checked', { sku });
    if (sku === 'missing') throw new Error(`no stock for ${sku}`);
    return { sku };
  }
}

@Controller('stock')
class StockController {
  constructor(private readonly stock: StockService) {}
  @Get(':sku')
  reserve(@Param('sku') sku: string) {
    return this.stock.reserve(sku);
  }
}

async function serve(platform: Platform, options: TracingModuleOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingModule.forRoot({ serviceName: `stock-${platform}`, autoTrace: false, ...options })],
    controllers: [StockController],
    providers: [StockService],
  }).compile();
  return listen(moduleRef, platform);
}

/** Two requests (one failing), the app closed: every span delivered. Returns them, checked for shape. */
async function exchange(app: INestApplication, receiver: SpanSink): Promise<ReceivedSpan[]> {
  expect((await request(app.getHttpServer()).get('/stock/a')).status).toBe(200);
  expect((await request(app.getHttpServer()).get('/stock/missing')).status).toBe(500);
  await app.close();
  const spans = await receiver.waitForSpans(4);
  expect(spans).toHaveLength(4);
  const servers = spans.filter((s) => s.name === 'GET /stock/:sku');
  expect(servers.map((s) => s.kind)).toEqual(['SERVER', 'SERVER']);
  for (const server of servers) {
    const [child, ...others] = spans.filter((s) => s.parentSpanId === server.spanId);
    expect(others).toEqual([]);
    expect(child).toMatchObject({ name: 'StockService.reserve', traceId: server.traceId });
  }
  return spans;
}

const failedMethod = (spans: ReceivedSpan[]) =>
  spans.find((s) => s.name === 'StockService.reserve' && s.status.code === 'ERROR')!;

describe.each(PLATFORMS)('exporters on the wire, %s', (platform) => {
  let certificates: TestCertificates;
  beforeAll(async () => {
    certificates = await makeCertificates();
  });

  describe("exporter: 'zipkin'", () => {
    let receiver: ZipkinReceiver;
    beforeEach(async () => {
      receiver = await startZipkinReceiver();
    });
    afterEach(() => receiver.close());

    it('sends Zipkin v2 JSON: names, ids, parents, kinds, tags, annotations, localEndpoint.serviceName', async () => {
      const app = await serve(platform, {
        exporter: 'zipkin',
        zipkin: { url: receiver.url, headers: { 'x-api': 'k' } },
      });
      const spans = await exchange(app, receiver);
      expect(receiver.requests[0]!['x-api']).toBe('k');
      for (const raw of receiver.raw) {
        expect(raw.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(raw.id).toMatch(/^[0-9a-f]{16}$/);
        expect(raw.localEndpoint).toEqual({ serviceName: `stock-${platform}` });
        expect(raw.duration).toBeGreaterThanOrEqual(0);
      }
      // Zipkin has no INTERNAL kind: a local span carries none
      expect(receiver.raw.filter((s) => s.name === 'StockService.reserve').map((s) => s.kind)).toEqual([
        undefined,
        undefined,
      ]);
      const server = spans.find((s) => s.name === 'GET /stock/:sku' && s.status.code !== 'ERROR')!;
      expect(server.attributes).toMatchObject({
        'http.route': '/stock/:sku',
        'http.response.status_code': '200',
        'http.request.method': 'GET',
        'service.name': `stock-${platform}`,
      });
      const failed = failedMethod(spans);
      expect(failed.attributes['stock.sku']).toBe('missing');
      expect(failed.events.map((e) => e.name)).toEqual(['stock.checked', 'exception']);
      expect(failed.status.message).toBe('no stock for missing');
      // a failure without a message still gets Zipkin's `error` tag, which Zipkin UI and Jaeger show
      const failedServer = spans.find((s) => s.spanId === failed.parentSpanId)!;
      expect(failedServer.status).toEqual({ code: 'ERROR', message: '500' });
    });

    it('stops waiting for a Zipkin that never answers: close() in time, spans counted as dropped, its socket let go', async () => {
      const hanging = await startZipkinReceiver('hang');
      try {
        const app = await serve(platform, {
          exporter: 'zipkin',
          zipkin: { url: hanging.url },
          batch: { exportTimeoutMillis: 500 },
          shutdownTimeoutMs: 3000,
        });
        expect((await request(app.getHttpServer()).get('/stock/a')).status).toBe(200);
        const tracing = app.get(TraceService);
        const began = Date.now();
        await app.close();
        expect(Date.now() - began).toBeLessThan(3000);
        await hanging.waitForRequests(1);
        expect(tracing.exportStats()[0]).toMatchObject({ exporter: 'zipkin', exported: 0, dropped: 2 });
        // the exporter's own request gives up after the export timeout: no socket keeps the process alive
        await hanging.waitForNoSockets(3000);
      } finally {
        await hanging.close();
      }
    });
  });

  describe("exporter: 'otlp' over HTTP", () => {
    let receiver: OtlpHttpReceiver | undefined;
    afterEach(() => receiver?.close());

    it("otlp.protocol 'http/json': OTLP JSON, decoded", async () => {
      receiver = await startOtlpHttpReceiver();
      const app = await serve(platform, { exporter: 'otlp', otlp: { protocol: 'http/json', url: receiver.url } });
      const spans = await exchange(app, receiver);
      expect(new Set(receiver.requests.map((r) => r.contentType))).toEqual(new Set(['application/json']));
      expect(failedMethod(spans).events.map((e) => e.name)).toEqual(['stock.checked', 'exception']);
      expect(spans[0]!.resource['service.name']).toBe(`stock-${platform}`);
    });

    it("http/protobuf with compression 'gzip' and headers", async () => {
      receiver = await startOtlpHttpReceiver();
      const app = await serve(platform, {
        exporter: 'otlp',
        otlp: { url: receiver.url, compression: 'gzip', headers: { 'x-api-key': 'secret' } },
      });
      await exchange(app, receiver);
      expect(receiver.requests[0]).toMatchObject({ contentType: 'application/x-protobuf', contentEncoding: 'gzip' });
      expect(receiver.requests[0]!.headers['x-api-key']).toBe('secret');
    });

    it('over TLS with a private CA and a client certificate (mutual TLS)', async () => {
      const { ca, serverCert: cert, serverKey: key, clientCert, clientKey } = certificates;
      receiver = await startOtlpHttpReceiver({ tls: { cert, key, ca } });
      const app = await serve(platform, {
        exporter: 'otlp',
        otlp: { protocol: 'http/json', url: receiver.url, tls: { ca, cert: clientCert, key: clientKey } },
      });
      await exchange(app, receiver);
      expect(receiver.requests[0]!.clientCertificate).toBe('client');
    });
  });

  describe("exporter: 'otlp' with otlp.protocol 'grpc'", () => {
    let receiver: OtlpGrpcReceiver | undefined;
    afterEach(() => receiver?.close());

    it('calls TraceService/Export on a gRPC server, headers as metadata, gzip accepted', async () => {
      receiver = await startOtlpGrpcReceiver();
      const app = await serve(platform, {
        exporter: 'otlp',
        otlp: { protocol: 'grpc', url: receiver.url, headers: { 'X-Api-Key': 'secret' }, compression: 'gzip' },
      });
      const spans = await exchange(app, receiver);
      // (grpc-js decompresses before the handler and hides grpc-encoding from it)
      expect(receiver.metadata[0]).toMatchObject({ 'x-api-key': 'secret' });
      expect(failedMethod(spans).attributes['stock.sku']).toBe('missing');
    });

    it('over TLS with a private CA and a client certificate', async () => {
      const { ca, serverCert: cert, serverKey: key, clientCert, clientKey } = certificates;
      receiver = await startOtlpGrpcReceiver({ tls: { cert, key, ca } });
      const app = await serve(platform, {
        exporter: 'otlp',
        otlp: { protocol: 'grpc', url: receiver.url, tls: { ca, cert: clientCert, key: clientKey } },
      });
      await exchange(app, receiver);
    });
  });
});
