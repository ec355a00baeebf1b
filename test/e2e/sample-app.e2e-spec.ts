import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transport } from '@nestjs/microservices';
import request from 'supertest';
import type { JaegerSpan, JaegerTrace } from 'nestjs-tracing';
import { traffic } from '../../sample-app/traffic.js';
import { baseUrl, listen } from '../support/platforms.js';
import { freePort } from '../support/ports.js';

/*
 * The demo's services, booted as a user would run them, writing one shared trace file:
 * what lands there must be what Jaeger UI's "Upload JSON" turns into trees.
 */
describe('sample-app: gateway, inventory and pricing writing one Jaeger UI file', () => {
  let dir: string;
  let traces: JaegerTrace[];
  const statuses: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tracing-sample-'));
    process.env.TRACE_FILE = join(dir, 'traces.json');
    const { InventoryModule } = await import('../../sample-app/inventory/inventory.module.js');
    const { GatewayModule } = await import('../../sample-app/gateway/gateway.module.js');
    const { PricingModule } = await import('../../sample-app/pricing/pricing.module.js');
    process.env.PRICING_PORT = String(await freePort());
    const pricing = (await Test.createTestingModule({ imports: [PricingModule] }).compile()).createNestMicroservice({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: Number(process.env.PRICING_PORT) },
      logger: false,
    });
    await pricing.listen();
    const inventory = await listen(await Test.createTestingModule({ imports: [InventoryModule] }).compile(), 'fastify');
    process.env.INVENTORY_URL = baseUrl(inventory);
    const gateway: INestApplication = await listen(
      await Test.createTestingModule({ imports: [GatewayModule] }).compile(),
      'express',
    );
    for (const call of traffic) {
      const req =
        call.method === 'GET'
          ? request(gateway.getHttpServer()).get(call.path)
          : request(gateway.getHttpServer())
              .post(call.path)
              .send(call.body as object);
      statuses.push((await req.set(call.headers ?? {})).status);
    }
    await gateway.close();
    await inventory.close();
    await pricing.close();
    const document = JSON.parse(await readFile(process.env.TRACE_FILE, 'utf8')) as { data: JaegerTrace[] };
    traces = document.data;
  });
  afterAll(async () => {
    delete process.env.TRACE_FILE;
    delete process.env.INVENTORY_URL;
    delete process.env.PRICING_PORT;
    await rm(dir, { recursive: true, force: true });
  });

  const rootOf = (trace: JaegerTrace) => trace.spans.filter((s) => !s.references?.length);
  const service = (trace: JaegerTrace, span: JaegerSpan) => trace.processes[span.processID]?.serviceName;
  const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

  it('answered every route as the demo expects', () => {
    expect(statuses).toEqual([200, 201, 404, 409, 403, 400, 200, 200, 500, 200]);
  });

  it('holds one entry per trace, one per traced request (the health check is ignored)', () => {
    expect(traces).toHaveLength(traffic.length - 1);
    expect(new Set(traces.map((t) => t.traceID)).size).toBe(traces.length);
    expect(traces.map((t) => rootOf(t)[0]?.operationName)).not.toContain('GET /health');
  });

  it('links every span into one tree per trace by CHILD_OF references, across all three services', () => {
    for (const trace of traces) {
      const ids = new Set(trace.spans.map((s) => s.spanID));
      expect(rootOf(trace)).toHaveLength(1);
      for (const span of trace.spans) {
        expect(span.traceID).toBe(trace.traceID);
        expect(Number.isInteger(span.startTime) && Number.isInteger(span.duration)).toBe(true);
        expect(trace.processes[span.processID]).toBeDefined();
        for (const ref of span.references ?? []) {
          expect(ref).toMatchObject({ refType: 'CHILD_OF', traceID: trace.traceID });
          expect(ids.has(ref.spanID)).toBe(true);
        }
      }
    }
    const order = traces.find((t) => rootOf(t)[0]?.operationName === 'POST /orders' && t.spans.length > 3)!;
    expect(new Set(order.spans.map((s) => service(order, s)))).toEqual(new Set(['gateway', 'inventory', 'pricing']));
    const quote = order.spans.find((s) => s.operationName === 'PricingService.quote')!;
    const parentOf = (span: JaegerSpan) => order.spans.find((s) => s.spanID === span.references?.[0]?.spanID)!;
    // the service call runs in the automatic handler span, beneath the message's SERVER span
    const handler = parentOf(quote);
    expect([handler.operationName, tag(handler, 'nestjs.type')]).toEqual(['PricingController.quote', 'handler']);
    const server = parentOf(handler);
    const sender = parentOf(server);
    expect([service(order, server), tag(server, 'span.kind')]).toEqual(['pricing', 'server']);
    expect([service(order, sender), tag(sender, 'span.kind')]).toEqual(['gateway', 'client']);
    const inventoryRoot = order.spans.find((s) => s.operationName === 'POST /stock/:sku/reservations')!;
    const client = order.spans.find((s) => s.spanID === inventoryRoot.references?.[0]?.spanID)!;
    expect(service(order, client)).toBe('gateway');
    expect(tag(client, 'span.kind')).toBe('client');
    expect(tag(inventoryRoot, 'span.kind')).toBe('server');
    expect(tag(inventoryRoot, 'http.response.status_code')).toBe(201);
  });

  it('shows the automatic guard, pipe, handler and provider spans with no decorator on them', () => {
    const order = traces.find((t) => rootOf(t)[0]?.operationName === 'POST /orders' && t.spans.length > 3)!;
    const root = rootOf(order)[0]!;
    const named = (name: string) => order.spans.find((s) => s.operationName === name)!;
    const parentName = (name: string) =>
      order.spans.find((s) => s.spanID === named(name).references?.[0]?.spanID)?.operationName;
    expect(['ApiKeyGuard.canActivate', 'ValidationPipe.transform', 'OrdersController.place'].map(parentName)).toEqual([
      root.operationName,
      root.operationName,
      root.operationName,
    ]);
    expect(tag(named('ApiKeyGuard.canActivate'), 'nestjs.type')).toBe('guard');
    expect(tag(named('ValidationPipe.transform'), 'nestjs.type')).toBe('pipe');
    expect(tag(named('OrdersController.place'), 'nestjs.type')).toBe('handler');
    expect(parentName('OrdersService.place')).toBe('OrdersController.place');
    // pricing has no @Trace(): `providers: true` traces its service, @SpanAttr included
    expect(tag(named('PricingService.quote'), 'nestjs.type')).toBe('provider');
    expect(tag(named('PricingService.quote'), 'product.sku')).toBe('chair');
    expect(parentName('PricingService.discounted')).toBe('PricingService.quote');
  });

  it('marks the failing steps of the 500 route as errors in both services', () => {
    const report = traces.find((t) => rootOf(t)[0]?.operationName === 'GET /reports/daily')!;
    const failed = report.spans.filter((s) => tag(s, 'error') === true);
    expect(failed.map((s) => s.operationName)).toEqual(
      expect.arrayContaining(['GET /reports/daily', 'StockService.dailyReport', 'OrdersService.dailyReport']),
    );
    const thrown = report.spans.find((s) => s.operationName === 'StockService.dailyReport')!;
    expect(thrown.logs[0]?.fields).toEqual(
      expect.arrayContaining([{ key: 'event', type: 'string', value: 'exception' }]),
    );
  });
});
