import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import request from 'supertest';
import type { TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { listen, PLATFORMS, type Platform } from '../../support/platforms.js';
import { ShopModule } from './shop-app.js';

async function boot(platform: Platform, options: TracingModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'shop', ...options }), ShopModule],
  }).compile();
  const app = await listen(moduleRef, platform);
  return { app, recorder: app.get(SpanRecorder) };
}

/** name → name of its parent, for every span of one trace. */
function parents(spans: ReadableSpan[]): Record<string, string | undefined> {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s.name]));
  return Object.fromEntries(spans.map((s) => [s.name, byId.get(s.parentSpanContext?.spanId ?? '')]));
}

describe.each(PLATFORMS)('the whole request path, with no decorator (%s)', (platform) => {
  let app: INestApplication;
  let recorder: SpanRecorder;
  afterEach(() => app?.close());

  it('draws the tree of the issue: middleware, guard, interceptor > pipe, handler > providers', async () => {
    const events: string[] = [];
    const order: SpanProcessor = {
      onStart: (span) => events.push(`start ${span.name}`),
      onEnd: (span) => events.push(`end ${span.name}`),
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    ({ app, recorder } = await boot(platform, { autoTrace: { providers: true }, spanProcessors: [order] }));
    await request(app.getHttpServer())
      .get('/shop/items/7')
      .set('x-key', 'open-sesame')
      .expect(203, { id: 7, price: 700 });
    const spans = recorder.spans();
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(parents(spans)).toEqual({
      'GET /shop/items/:id': undefined,
      'RequestIdMiddleware.use': 'GET /shop/items/:id',
      'KeyGuard.canActivate': 'GET /shop/items/:id',
      'TimingInterceptor.intercept': 'GET /shop/items/:id',
      'ParseIntPipe.transform': 'TimingInterceptor.intercept',
      'ShopController.item': 'TimingInterceptor.intercept',
      'CatalogService.find': 'ShopController.item',
      'PriceService.price': 'CatalogService.find',
    });
    const type = (name: string) => recorder.find(name).attributes['nestjs.type'];
    expect(
      ['RequestIdMiddleware.use', 'KeyGuard.canActivate', 'TimingInterceptor.intercept', 'ParseIntPipe.transform'].map(
        type,
      ),
    ).toEqual(['middleware', 'guard', 'interceptor', 'pipe']);
    expect([type('ShopController.item'), type('CatalogService.find')]).toEqual(['handler', 'provider']);
    expect(recorder.find('KeyGuard.canActivate').attributes['code.function.name']).toBe('KeyGuard.canActivate');
    // the middleware span ends at next(), before the guard starts; the interceptor's when its Observable completes
    const at = (event: string) => events.indexOf(event);
    expect(at('end RequestIdMiddleware.use')).toBeLessThan(at('start KeyGuard.canActivate'));
    expect(at('end ShopController.item')).toBeLessThan(at('end TimingInterceptor.intercept'));
    expect(at('end PriceService.price')).toBeLessThan(at('end CatalogService.find'));
  });

  it('keeps the guard span of a rejected request and makes no handler or interceptor span', async () => {
    ({ app, recorder } = await boot(platform));
    await request(app.getHttpServer()).get('/shop/items/7').set('x-key', 'wrong').expect(403);
    const names = recorder.spans().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['KeyGuard.canActivate', 'GET /shop/items/:id']));
    expect(names).not.toContain('ShopController.item');
    expect(names).not.toContain('TimingInterceptor.intercept');
    expect(recorder.find('KeyGuard.canActivate').status.code).toBe(SpanStatusCode.UNSET);
  });

  it('shows the filter that handled an error, beneath the server span, after the failed handler span', async () => {
    ({ app, recorder } = await boot(platform));
    await request(app.getHttpServer()).get('/shop/sold-out').expect(409, { error: 'sold out' });
    const handler = recorder.find('ShopController.soldOut');
    expect(handler.status.code).toBe(SpanStatusCode.ERROR);
    expect(handler.attributes['error.type']).toBe('OutOfStock');
    const filter = recorder.find('ShopFilter.catch');
    expect(filter.attributes['nestjs.type']).toBe('filter');
    expect(filter.parentSpanContext?.spanId).toBe(recorder.find('GET /shop/sold-out').spanContext().spanId);
  });

  it('keeps the defaults (no provider spans) and turns everything off with autoTrace: false', async () => {
    ({ app, recorder } = await boot(platform));
    await request(app.getHttpServer()).get('/shop/items/1').set('x-key', 'open-sesame').expect(203);
    const names = recorder.spans().map((s) => s.name);
    expect(names).toContain('ShopController.item');
    expect(names.filter((n) => n.endsWith('Service.find') || n.endsWith('Service.price'))).toEqual([]);
    await app.close();

    ({ app, recorder } = await boot(platform, { autoTrace: false }));
    await request(app.getHttpServer()).get('/shop/items/1').set('x-key', 'open-sesame').expect(203);
    expect(recorder.spans().map((s) => s.name)).toEqual(['GET /shop/items/:id']);
  });

  it('keeps every span of 50 concurrent requests in its own request', async () => {
    ({ app, recorder } = await boot(platform, { autoTrace: { providers: true } }));
    const http = request(app.getHttpServer());
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => http.get(`/shop/items/${i}`).set('x-key', 'open-sesame').expect(203)),
    );
    const byTrace = new Map<string, ReadableSpan[]>();
    for (const span of recorder.spans()) {
      const id = span.spanContext().traceId;
      byTrace.set(id, [...(byTrace.get(id) ?? []), span]);
    }
    expect(byTrace.size).toBe(50);
    for (const spans of byTrace.values()) {
      expect(spans).toHaveLength(8);
      expect(parents(spans)['PriceService.price']).toBe('CatalogService.find');
      expect(parents(spans)['ShopController.item']).toBe('TimingInterceptor.intercept');
    }
  });
});
