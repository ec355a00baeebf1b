import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { SpanAttr, Trace, TracingModule, type TracingModuleOptions, type TracingOptionsFactory } from 'nestjs-tracing';
import { startJaegerHttpReceiver, startJaegerUdpReceiver } from '../support/jaeger-receiver.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import type { ReceivedSpan, SpanSink } from '../support/received-span.js';
import { listen, PLATFORMS, type Platform } from '../support/platforms.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
class StockService {
  @Trace()
  async reserve(@SpanAttr('stock.sku') sku: string) {
    await sleep(10);
    if (sku === 'missing') throw new Error(`no stock for ${sku}`);
    return { sku, reserved: true };
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

/** Stands in for a ConfigService: forRootAsync must be able to inject it. */
@Injectable()
class TracingConfig {
  constructor(readonly options: TracingModuleOptions) {}
}

type Receiver = SpanSink & { close(): Promise<void> };
interface Case {
  name: string;
  start(): Promise<{ receiver: Receiver; options: TracingModuleOptions }>;
  async?: 'useFactory' | 'useClass';
}

const cases: Case[] = [
  {
    name: 'OTLP http/protobuf',
    async start() {
      const receiver = await startOtlpReceiver();
      return { receiver, options: { exporter: 'otlp', otlp: { url: receiver.url } } };
    },
  },
  {
    name: 'Jaeger thrift over HTTP (forRootAsync useFactory)',
    async: 'useFactory',
    async start() {
      const receiver = await startJaegerHttpReceiver();
      return { receiver, options: { exporter: 'jaeger', jaeger: { endpoint: receiver.endpoint } } };
    },
  },
  {
    name: 'Jaeger thrift over UDP (forRootAsync useClass)',
    async: 'useClass',
    async start() {
      const receiver = await startJaegerUdpReceiver();
      return { receiver, options: { exporter: 'jaeger', jaeger: { host: receiver.host, port: receiver.port } } };
    },
  },
];

function tracingImport(c: Case, options: TracingModuleOptions) {
  if (!c.async) return TracingModule.forRoot(options);
  @Module({ providers: [{ provide: TracingConfig, useValue: new TracingConfig(options) }], exports: [TracingConfig] })
  class ConfigModule {}
  if (c.async === 'useFactory') {
    return TracingModule.forRootAsync({
      imports: [ConfigModule],
      inject: [TracingConfig],
      useFactory: (config: TracingConfig) => config.options,
    });
  }
  @Injectable()
  class Factory implements TracingOptionsFactory {
    constructor(private readonly config: TracingConfig) {}
    createTracingOptions() {
      return this.config.options;
    }
  }
  return TracingModule.forRootAsync({ imports: [ConfigModule], useClass: Factory });
}

const find = (spans: ReceivedSpan[], name: string) => {
  const span = spans.find((s) => s.name === name);
  if (!span) throw new Error(`no "${name}" in ${spans.map((s) => s.name).join(', ')}`);
  return span;
};

describe.each(PLATFORMS)('export on %s', (platform: Platform) => {
  describe.each(cases)('$name', (c) => {
    let receiver: Receiver;
    let app: INestApplication;

    beforeAll(async () => {
      const started = await c.start();
      receiver = started.receiver;
      const options: TracingModuleOptions = {
        serviceName: `stock-${platform}`,
        serviceVersion: '1.2.3',
        autoTrace: false,
        ...started.options,
      };
      const moduleRef = await Test.createTestingModule({
        imports: [tracingImport(c, options)],
        controllers: [StockController],
        providers: [StockService],
      }).compile();
      app = await listen(moduleRef, platform);
    });
    afterAll(() => receiver.close());

    it('delivers every span on close, with names, parents, attributes, status and exception events', async () => {
      const server = app.getHttpServer();
      const ok = await Promise.all(['a', 'b', 'c'].map((sku) => request(server).get(`/stock/${sku}`)));
      expect(ok.map((r) => r.status)).toEqual([200, 200, 200]);
      expect((await request(server).get('/stock/missing')).status).toBe(500);
      await app.close();

      const spans = await receiver.waitForSpans(8);
      expect(spans).toHaveLength(8);
      const serverSpans = spans.filter((s) => s.name === 'GET /stock/:sku');
      expect(serverSpans).toHaveLength(4);
      for (const serverSpan of serverSpans) {
        expect(serverSpan.kind).toBe('SERVER');
        expect(serverSpan.parentSpanId).toBeUndefined();
        const children = spans.filter((s) => s.parentSpanId === serverSpan.spanId);
        expect(children.map((s) => s.name)).toEqual(['StockService.reserve']);
        expect(children[0]?.traceId).toBe(serverSpan.traceId);
        expect(children[0]?.durationUs).toBeGreaterThanOrEqual(5000);
        expect(serverSpan.durationUs).toBeGreaterThanOrEqual(children[0]!.durationUs);
        expect(serverSpan.resource['service.name']).toBe(`stock-${platform}`);
      }
      const failed = find(
        spans.filter((s) => s.attributes['stock.sku'] === 'missing'),
        'StockService.reserve',
      );
      expect(failed.status.code).toBe('ERROR');
      expect(failed.events.map((e) => e.name)).toEqual(['exception']);
      expect(failed.events[0]?.attributes['exception.message']).toBe('no stock for missing');
      const failedServer = spans.find((s) => s.spanId === failed.parentSpanId)!;
      expect(failedServer.status.code).toBe('ERROR');
      expect(failedServer.attributes['http.response.status_code']).toBe(500);
      expect(failedServer.attributes['http.route']).toBe('/stock/:sku');
    });
  });
});
