import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Controller, Get, Headers, Injectable, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { firstValueFrom } from 'rxjs';
import request from 'supertest';
import { Trace } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { parentId, spanId, traceId } from '../support/memory-tracing.js';
import { baseUrl, listen } from '../support/platforms.js';
import { freePort } from '../support/ports.js';

@Controller('prices')
class PricesController {
  @Get(':sku')
  @Trace()
  price(@Param('sku') sku: string, @Headers('baggage') baggage?: string) {
    if (sku === 'boom') throw new Error('pricing failed');
    return { sku, cents: sku.length * 100, baggage: baggage ?? null };
  }
}

let pricingUrl = '';

@Injectable()
class PricingClient {
  constructor(private readonly http: HttpService) {}
  @Trace()
  async viaFetch(sku: string) {
    const res = await fetch(`${pricingUrl}/prices/${sku}`);
    return { status: res.status, body: await res.json() };
  }
  @Trace()
  async viaAxios(sku: string) {
    const res = await firstValueFrom(this.http.get(`${pricingUrl}/prices/${sku}`, { validateStatus: () => true }));
    return { status: res.status, body: res.data };
  }
}

@Controller('quote')
class QuoteController {
  constructor(private readonly client: PricingClient) {}
  @Get(':via/:sku')
  quote(@Param('via') via: string, @Param('sku') sku: string) {
    return via === 'fetch' ? this.client.viaFetch(sku) : this.client.viaAxios(sku);
  }
}

describe('trace context across two services over HTTP', () => {
  let gateway: INestApplication;
  let pricing: INestApplication;

  beforeAll(async () => {
    pricing = await listen(
      await Test.createTestingModule({
        imports: [TracingTestingModule.forRoot({ serviceName: 'pricing', autoTrace: false })],
        controllers: [PricesController],
      }).compile(),
      'fastify',
    );
    pricingUrl = baseUrl(pricing);
    gateway = await listen(
      await Test.createTestingModule({
        imports: [TracingTestingModule.forRoot({ serviceName: 'gateway', autoTrace: false }), HttpModule],
        controllers: [QuoteController],
        providers: [PricingClient],
      }).compile(),
      'express',
    );
  });
  afterAll(async () => {
    await gateway.close();
    await pricing.close();
  });
  beforeEach(() => {
    gateway.get(SpanRecorder).reset();
    pricing.get(SpanRecorder).reset();
  });

  const spans = async () => ({
    gw: gateway.get(SpanRecorder).spans(),
    pr: pricing.get(SpanRecorder).spans(),
  });
  const one = (list: ReadableSpan[], predicate: (s: ReadableSpan) => boolean) => {
    const found = list.filter(predicate);
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  describe.each(['fetch', 'axios'])('with %s', (via) => {
    it('makes the next service’s server span a child of a CLIENT span, in one trace', async () => {
      const res = await request(gateway.getHttpServer()).get(`/quote/${via}/abc`).set('baggage', 'tenant=acme');
      expect(res.status).toBe(200);
      expect(res.body.body).toMatchObject({ sku: 'abc', cents: 300, baggage: 'tenant=acme' });
      const { gw, pr } = await spans();
      const entry = one(gw, (s) => s.name === 'GET /quote/:via/:sku');
      const method = one(gw, (s) => s.name.startsWith('PricingClient.'));
      const client = one(gw, (s) => s.kind === SpanKind.CLIENT);
      const remote = one(pr, (s) => s.name === 'GET /prices/:sku');
      const handler = one(pr, (s) => s.name === 'PricesController.price');
      expect(parentId(method)).toBe(spanId(entry));
      expect(parentId(client)).toBe(spanId(method));
      expect(parentId(remote)).toBe(spanId(client));
      expect(parentId(handler)).toBe(spanId(remote));
      expect(new Set([entry, method, client, remote, handler].map(traceId)).size).toBe(1);
      expect(client.name).toBe('GET');
      expect(client.attributes).toMatchObject({
        'http.request.method': 'GET',
        'server.address': '127.0.0.1',
        'server.port': Number(new URL(pricingUrl).port),
        'url.full': `${pricingUrl}/prices/abc`,
        'http.response.status_code': 200,
      });
      expect(client.status.code).toBe(SpanStatusCode.UNSET);
      expect(remote.resource.attributes['service.name']).toBe('pricing');
      expect(client.resource.attributes['service.name']).toBe('gateway');
    });

    it('marks the CLIENT span as an error when the next service answers 5xx', async () => {
      const res = await request(gateway.getHttpServer()).get(`/quote/${via}/boom`);
      expect(res.body.status).toBe(500);
      const { gw } = await spans();
      const client = one(gw, (s) => s.kind === SpanKind.CLIENT);
      expect(client.status.code).toBe(SpanStatusCode.ERROR);
      expect(client.attributes['error.type']).toBe('500');
    });

    it('keeps 20 concurrent calls in 20 separate traces', async () => {
      const skus = Array.from({ length: 20 }, (_, i) => `sku${i}`);
      await Promise.all(skus.map((sku) => request(gateway.getHttpServer()).get(`/quote/${via}/${sku}`)));
      const { gw, pr } = await spans();
      const remotes = pr.filter((s) => s.name === 'GET /prices/:sku');
      expect(remotes).toHaveLength(20);
      for (const remote of remotes) {
        const client = one(gw, (s) => spanId(s) === parentId(remote));
        expect(client.attributes['url.full']).toBe(`${pricingUrl}${remote.attributes['url.path']}`);
        const entry = one(gw, (s) => traceId(s) === traceId(remote) && s.kind === SpanKind.SERVER);
        expect(entry.attributes['url.path']).toBe(
          `/quote/${via}/${String(remote.attributes['url.path']).split('/').pop()}`,
        );
      }
    });
  });

  it('records a CLIENT span error when the service cannot be reached', async () => {
    const svc = gateway.get(PricingClient);
    const saved = pricingUrl;
    pricingUrl = `http://127.0.0.1:${await freePort()}`;
    try {
      await expect(svc.viaFetch('x')).rejects.toThrow();
    } finally {
      pricingUrl = saved;
    }
    const { gw } = await spans();
    const client = one(gw, (s) => s.kind === SpanKind.CLIENT);
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes['error.type']).toBe('ECONNREFUSED');
  });
});
