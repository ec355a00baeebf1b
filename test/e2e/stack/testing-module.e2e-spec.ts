import 'reflect-metadata';
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import request from 'supertest';
import { Trace, TraceService, TracingModule } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { listen, PLATFORMS } from '../../support/platforms.js';

/*
 * How users test their spans: TracingTestingModule in place of TracingModule, either
 * imported directly or swapped into an AppModule that already imports TracingModule.
 */
@Injectable()
class PriceService {
  @Trace()
  async quote(sku: string): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return this.tax(sku.length * 10);
  }

  @Trace()
  tax(amount: number): number {
    return amount * 1.2;
  }
}

@Controller('prices')
class PriceController {
  constructor(
    private readonly prices: PriceService,
    private readonly tracing: TraceService,
  ) {}

  @Get('fail')
  fail(): never {
    throw new Error('no price');
  }

  @Get(':sku')
  async get() {
    return { price: await this.prices.quote('lamp'), traceId: this.tracing.getTraceId() };
  }
}

/** What an app looks like: its real tracing configuration, exported so a test can swap it. */
export const tracing = TracingModule.forRoot({
  serviceName: 'prices',
  autoTrace: false,
  exporter: 'otlp',
  otlp: { url: 'http://127.0.0.1:9/v1/traces' },
});

@Module({ imports: [tracing], controllers: [PriceController], providers: [PriceService] })
class AppModule {}

const asyncTracing = TracingModule.forRootAsync({ useFactory: () => ({ serviceName: 'prices', autoTrace: false }) });

@Module({ imports: [asyncTracing], controllers: [PriceController], providers: [PriceService] })
class AsyncAppModule {}

describe.each(PLATFORMS)('TracingTestingModule and SpanRecorder on %s', (platform) => {
  let app: INestApplication;
  let recorder: SpanRecorder;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TracingTestingModule.forRoot({ serviceName: 'prices', autoTrace: false })],
      controllers: [PriceController],
      providers: [PriceService],
    }).compile();
    app = await listen(moduleRef, platform);
    recorder = app.get(SpanRecorder);
  });
  afterAll(() => app.close());
  beforeEach(() => recorder.reset());

  it('holds every span the moment the response is sent, with no flush', async () => {
    const res = await request(app.getHttpServer()).get('/prices/lamp').expect(200);
    const server = recorder.find('GET /prices/:sku');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(res.body.traceId);
    expect(server.resource.attributes['service.name']).toBe('prices');
    const [quote] = recorder.childrenOf(server);
    expect(quote?.name).toBe('PriceService.quote');
    expect(recorder.childrenOf(quote!).map((s) => s.name)).toEqual(['PriceService.tax']);
    expect(recorder.spans()).toHaveLength(3);
  });

  it('findAll, reset and a find that fails listing the names it has', async () => {
    await request(app.getHttpServer()).get('/prices/a').expect(200);
    await request(app.getHttpServer()).get('/prices/b').expect(200);
    expect(recorder.findAll('PriceService.tax')).toHaveLength(2);
    expect(() => recorder.find('SELECT nothing')).toThrow(
      /no span named "SELECT nothing"; recorded: .*PriceService\.tax.*GET \/prices\/:sku/,
    );
    recorder.reset();
    expect(recorder.spans()).toEqual([]);
    expect(() => recorder.find('PriceService.tax')).toThrow(/recorded: none/);
  });

  it('draws the trace as the CLI does, errors marked', async () => {
    await request(app.getHttpServer()).get('/prices/fail').expect(500);
    await recorder.flush();
    const failed = recorder.find('GET /prices/fail');
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    const tree = recorder.tree();
    expect(tree).toContain('GET /prices/fail');
    expect(tree).toMatch(/prices/);
    await request(app.getHttpServer()).get('/prices/lamp').expect(200);
    const lines = recorder.tree().split('\n');
    const at = (name: string) => lines.findIndex((l) => l.includes(name));
    // parents above children, the child indented deeper than its parent
    expect(at('GET /prices/:sku')).toBeLessThan(at('PriceService.quote'));
    expect(at('PriceService.quote')).toBeLessThan(at('PriceService.tax'));
  });
});

describe('swapping the TracingModule an AppModule imports', () => {
  it.each([
    ['forRoot', AppModule, tracing],
    ['forRootAsync', AsyncAppModule, asyncTracing],
  ] as const)(
    'overrideModule(<its %s module>).useModule(TracingTestingModule.forRoot())',
    async (_, root, imported) => {
      const moduleRef = await Test.createTestingModule({ imports: [root] })
        .overrideModule(imported)
        .useModule(TracingTestingModule.forRoot({ autoTrace: false }))
        .compile();
      const app = await listen(moduleRef, 'express');
      try {
        await request(app.getHttpServer()).get('/prices/lamp').expect(200);
        const recorder = app.get(SpanRecorder);
        expect(recorder.childrenOf(recorder.find('GET /prices/:sku')).map((s) => s.name)).toEqual([
          'PriceService.quote',
        ]);
        // the app's own TracingModule is gone: the services' TraceService is the recording one
        expect(recorder.spans().every((s) => s.resource.attributes['service.name'] !== 'prices')).toBe(true);
      } finally {
        await app.close();
      }
    },
  );

  it('overrideModule(TracingModule), the class, matches no import: the app keeps its own module', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideModule(TracingModule)
      .useModule(TracingTestingModule.forRoot())
      .compile();
    expect(() => moduleRef.get(SpanRecorder)).toThrow();
    await moduleRef.close();
  });

  it('fails at startup, saying how to fix it, when the app ends up with two TracingModules', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule, TracingTestingModule.forRoot()],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(
      /2 TracingModules in one app.*\.overrideModule\(<the TracingModule\.forRoot\(\) it imports>\)\.useModule\(TracingTestingModule\.forRoot\(\)\)/s,
    );
    await app.close();
  });
});
