import 'reflect-metadata';
import type { INestApplication, INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Transport } from '@nestjs/microservices';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JaegerTrace } from '../../lib/export/jaeger-json.js';
import { watchStock } from '../../sample-app/live-traffic.js';
import { baseUrl, listen } from '../support/platforms.js';
import { freePort } from '../support/ports.js';

/* The demo's WebSocket message: one socket.io message to the gateway, one trace across the three services. */
describe('sample-app: a WebSocket message traced across gateway, inventory and pricing', () => {
  let dir: string;
  let trace: JaegerTrace | undefined;
  let answer: unknown;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tracing-live-'));
    process.env.TRACE_FILE = join(dir, 'traces.json');
    process.env.PRICING_PORT = String(await freePort());
    const { InventoryModule } = await import('../../sample-app/inventory/inventory.module.js');
    const { GatewayModule } = await import('../../sample-app/gateway/gateway.module.js');
    const { PricingModule } = await import('../../sample-app/pricing/pricing.module.js');
    const pricing: INestMicroservice = (
      await Test.createTestingModule({ imports: [PricingModule] }).compile()
    ).createNestMicroservice({
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
    answer = await watchStock(baseUrl(gateway), 'lamp', () => undefined);
    await gateway.close();
    await inventory.close();
    await pricing.close();
    const document = JSON.parse(await readFile(process.env.TRACE_FILE, 'utf8')) as { data: JaegerTrace[] };
    trace = document.data.find((t) => t.spans.some((s) => s.operationName === 'WS stock.watch'));
  });
  afterAll(async () => {
    delete process.env.TRACE_FILE;
    delete process.env.INVENTORY_URL;
    delete process.env.PRICING_PORT;
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the message as the HTTP route does, and traces it from the WS span to pricing', () => {
    expect(answer).toMatchObject({ sku: 'lamp', priceCents: expect.any(Number) });
    const roots = trace?.spans.filter((s) => !s.references?.length) ?? [];
    expect(roots.map((s) => s.operationName)).toEqual(['WS stock.watch']);
    const services = new Set(trace?.spans.map((s) => trace?.processes[s.processID]?.serviceName));
    expect(services).toEqual(new Set(['gateway', 'inventory', 'pricing']));
    const names = trace?.spans.map((s) => s.operationName);
    expect(names).toEqual(
      expect.arrayContaining(['StockWatchGateway.watch', 'OrdersService.product', 'process price.quote']),
    );
  });
});
