import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { JaegerSpan, JaegerTrace } from 'nestjs-tracing';
import { listen } from '../../support/platforms.js';

/*
 * The demo's inventory keeps its stock in PostgreSQL (embedded, as no DATABASE_URL is set)
 * through `pg`, and its SQL spans come from @opentelemetry/instrumentation-pg, given to
 * TracingModule: real queries, children of the service methods that ran them.
 */
describe('sample-app inventory on PostgreSQL', () => {
  let dir: string;
  let traces: JaegerTrace[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tracing-sql-'));
    process.env.TRACE_FILE = join(dir, 'traces.json');
    const { InventoryModule } = await import('../../../sample-app/inventory/inventory.module.js');
    const inventory: INestApplication = await listen(
      await Test.createTestingModule({ imports: [InventoryModule] }).compile(),
      'fastify',
    );
    await request(inventory.getHttpServer())
      .get('/stock/lamp')
      .expect(200, { sku: 'lamp', name: 'Desk lamp', available: 12 });
    await request(inventory.getHttpServer()).post('/stock/lamp/reservations').send({ quantity: 5 }).expect(201, {
      sku: 'lamp',
      reserved: 5,
      left: 7,
    });
    await request(inventory.getHttpServer())
      .get('/stock/lamp')
      .expect(200, { sku: 'lamp', name: 'Desk lamp', available: 7 });
    await inventory.close();
    traces = (JSON.parse(await readFile(process.env.TRACE_FILE, 'utf8')) as { data: JaegerTrace[] }).data;
  }, 60_000);
  afterAll(async () => {
    delete process.env.TRACE_FILE;
    await rm(dir, { recursive: true, force: true });
  });

  const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
  const parentOf = (trace: JaegerTrace, span: JaegerSpan) =>
    trace.spans.find((s) => s.spanID === span.references?.[0]?.spanID)?.operationName;

  it('records each SELECT and UPDATE as a CLIENT span under the method that ran it', () => {
    const rooted = (name: string) =>
      traces.find((t) => t.spans.some((s) => !s.references?.length && s.operationName === name));
    const find = rooted('GET /stock/:sku');
    const reserve = rooted('POST /stock/:sku/reservations');
    const select = find!.spans.find((s) => s.operationName === 'pg.query:SELECT postgres')!;
    expect(parentOf(find!, select)).toBe('StockService.find');
    expect(tag(select, 'span.kind')).toBe('client');
    expect(tag(select, 'db.system.name')).toBe('postgresql');
    expect(tag(select, 'db.query.text')).toBe('SELECT sku, name, available FROM stock WHERE sku = $1');
    const update = reserve!.spans.find((s) => s.operationName === 'pg.query:UPDATE postgres')!;
    expect(parentOf(reserve!, update)).toBe('StockService.reserve');
    expect(tag(update, 'db.query.text')).toMatch(/^UPDATE stock SET available = GREATEST/);
  });
});
