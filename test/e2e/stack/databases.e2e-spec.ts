import 'reflect-metadata';
import { Controller, Get, Injectable, type INestApplication, type OnApplicationShutdown } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { listen, PLATFORMS } from '../../support/platforms.js';

/*
 * The `instrumentations` option against the machine's real PostgreSQL, MariaDB and Redis:
 * the contrib instrumentations patch drivers this file has already imported (no preload),
 * directly and through TypeORM. Every database, table and key is unique to the run.
 */
const run = `nt_${process.pid}_${Date.now().toString(36)}`;
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const MY = { host: '127.0.0.1', port: 3306, user: 'root' };

@Injectable()
class Stores implements OnApplicationShutdown {
  readonly pool = new pg.Pool({ ...PG, database: run, max: 2 });
  readonly my = mysql.createPool({ ...MY, database: run, connectionLimit: 2 });
  readonly redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  readonly typeormPg = new DataSource({ type: 'postgres', ...PG, username: PG.user, database: run });
  readonly typeormMy = new DataSource({ type: 'mysql', ...MY, username: MY.user, database: run });

  async onApplicationShutdown() {
    await Promise.all([
      this.pool.end(),
      this.my.end(),
      this.redis.quit(),
      this.typeormPg.destroy(),
      this.typeormMy.destroy(),
    ]);
  }
}

@Controller('db')
class DbController {
  constructor(private readonly stores: Stores) {}

  @Get('pg')
  async pg() {
    const { rows } = await this.stores.pool.query('SELECT qty FROM stock WHERE sku = $1', ['lamp']);
    return rows[0];
  }

  @Get('pg-fail')
  async pgFail() {
    await this.stores.pool.query('SELECT nope FROM stock').catch(() => undefined);
    return {};
  }

  @Get('mysql')
  async mysql() {
    const [rows] = await this.stores.my.query('SELECT qty FROM stock WHERE sku = ?', ['lamp']);
    return (rows as unknown[])[0];
  }

  @Get('redis')
  async redis() {
    await this.stores.redis.set(`${run}:lamp`, '12');
    return { qty: await this.stores.redis.get(`${run}:lamp`) };
  }

  @Get('typeorm-pg')
  async typeormPg() {
    return (await this.stores.typeormPg.query('SELECT qty FROM stock WHERE sku = $1', ['lamp']))[0];
  }

  @Get('typeorm-mysql')
  async typeormMysql() {
    return (await this.stores.typeormMy.query('SELECT qty FROM stock WHERE sku = ?', ['lamp']))[0];
  }
}

async function createDatabases(): Promise<void> {
  const admin = new pg.Client({ ...PG, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${run}`);
  await admin.end();
  const db = new pg.Client({ ...PG, database: run });
  await db.connect();
  await db.query(`CREATE TABLE stock (sku text PRIMARY KEY, qty int); INSERT INTO stock VALUES ('lamp', 12)`);
  await db.end();
  const my = await mysql.createConnection({ ...MY, multipleStatements: true });
  await my.query(
    `CREATE DATABASE ${run}; CREATE TABLE ${run}.stock (sku varchar(20) PRIMARY KEY, qty int); INSERT INTO ${run}.stock VALUES ('lamp', 12)`,
  );
  await my.end();
}

async function dropDatabases(): Promise<void> {
  const admin = new pg.Client({ ...PG, database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${run} WITH (FORCE)`);
  await admin.end();
  const my = await mysql.createConnection(MY);
  await my.query(`DROP DATABASE IF EXISTS ${run}`);
  await my.end();
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  await redis.del(`${run}:lamp`);
  await redis.quit();
}

const instrumentations = () => [new PgInstrumentation(), new MySQL2Instrumentation(), new IORedisInstrumentation()];

async function boot(platform: 'express' | 'fastify', serviceName = 'stock'): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName, autoTrace: false, instrumentations: instrumentations() })],
    controllers: [DbController],
    providers: [Stores],
  }).compile();
  const app = await listen(moduleRef, platform);
  const stores = app.get(Stores);
  await Promise.all([stores.typeormPg.initialize(), stores.typeormMy.initialize(), stores.redis.connect()]);
  app.get(SpanRecorder).reset();
  return app;
}

const isWrapped = (fn: unknown) => (fn as { __wrapped?: boolean }).__wrapped === true;
const childOf = (span: ReadableSpan, parent: ReadableSpan) =>
  span.parentSpanContext?.spanId === parent.spanContext().spanId &&
  span.spanContext().traceId === parent.spanContext().traceId;

beforeAll(createDatabases, 30_000);
afterAll(dropDatabases, 30_000);

describe.each(PLATFORMS)('database spans from OpenTelemetry instrumentations, no preload, on %s', (platform) => {
  let app: INestApplication;
  let recorder: SpanRecorder;
  beforeAll(async () => {
    app = await boot(platform);
    recorder = app.get(SpanRecorder);
  });
  afterAll(() => app?.close());
  beforeEach(() => recorder.reset());

  /** The CLIENT spans the request made, every one in its trace and below its SERVER span. */
  async function clientSpans(path: string): Promise<ReadableSpan[]> {
    await request(app.getHttpServer()).get(path).expect(200);
    const server = recorder.find(`GET ${path}`);
    const spans = recorder.spans().filter((s) => s.kind === SpanKind.CLIENT);
    const byId = new Map(recorder.spans().map((s) => [s.spanContext().spanId, s]));
    for (const span of spans) {
      let parent = byId.get(span.parentSpanContext?.spanId ?? '');
      while (parent && parent !== server) parent = byId.get(parent.parentSpanContext?.spanId ?? '');
      expect([span.name, parent?.name]).toEqual([span.name, `GET ${path}`]);
    }
    return spans;
  }

  const query = (spans: ReadableSpan[], name: RegExp | string) => {
    const found = spans.filter((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
    expect(found.map((s) => s.name)).toHaveLength(1);
    return found[0]!;
  };

  it('pg: a span per query, with the statement and the database', async () => {
    const server = () => recorder.find('GET /db/pg');
    const select = query(await clientSpans('/db/pg'), /^pg\.query:SELECT/);
    expect(childOf(select, server())).toBe(true);
    expect(select.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': run,
      'db.query.text': 'SELECT qty FROM stock WHERE sku = $1',
      'server.address': '127.0.0.1',
    });
    expect(select.resource.attributes['service.name']).toBe('stock');
  });

  it('pg: a failed query is an error span', async () => {
    const select = query(await clientSpans('/db/pg-fail'), /^pg\.query:SELECT/);
    expect(select.status).toMatchObject({ code: SpanStatusCode.ERROR, message: expect.stringContaining('nope') });
  });

  it('mysql2', async () => {
    const select = query(await clientSpans('/db/mysql'), 'SELECT');
    expect(childOf(select, recorder.find('GET /db/mysql'))).toBe(true);
    expect(select.attributes).toMatchObject({ 'db.system.name': 'mysql', 'db.namespace': run });
    expect(select.attributes['db.query.text']).toBe("SELECT qty FROM stock WHERE sku = 'lamp'");
  });

  it('ioredis', async () => {
    const spans = await clientSpans('/db/redis');
    expect(spans.map((s) => s.name)).toEqual(['set', 'get']);
    expect(spans[0]!.attributes).toMatchObject({ 'db.system.name': 'redis', 'db.operation.name': 'set' });
    expect(spans[1]!.attributes['db.query.text']).toBe(`get ${run}:lamp`);
  });

  it.each([
    ['/db/typeorm-pg', /^pg\.query:SELECT/, 'SELECT qty FROM stock WHERE sku = $1'],
    ['/db/typeorm-mysql', 'SELECT', "SELECT qty FROM stock WHERE sku = 'lamp'"],
  ] as const)('TypeORM: %s', async (path, name, text) => {
    const select = query(await clientSpans(path), name);
    expect(childOf(select, recorder.find(`GET ${path}`))).toBe(true);
    expect(select.attributes['db.query.text']).toBe(text);
  });
});

describe('instrumentations across app lifetimes', () => {
  const patched = () => isWrapped(pg.Client.prototype.query) && isWrapped(Redis.prototype.sendCommand);
  const pgQueries = (app: INestApplication) =>
    app
      .get(SpanRecorder)
      .spans()
      .filter((s) => s.name.startsWith('pg.query:'));

  it('patches while an app runs, unpatches when it closes, and patches again for the next one', async () => {
    expect(patched()).toBe(false);
    const first = await boot('express');
    expect(patched()).toBe(true);
    await first.close();
    expect(patched()).toBe(false);
    const second = await boot('express');
    await request(second.getHttpServer()).get('/db/pg').expect(200);
    expect(pgQueries(second)).toHaveLength(1);
    await second.close();
    expect(patched()).toBe(false);
  });

  it('two apps in one process: each records the queries of its own requests; the last to close unpatches', async () => {
    const orders = await boot('express', 'orders');
    const billing = await boot('fastify', 'billing');
    try {
      await request(orders.getHttpServer()).get('/db/pg').expect(200);
      expect(pgQueries(orders).map((s) => s.resource.attributes['service.name'])).toEqual(['orders']);
      expect(pgQueries(billing)).toEqual([]);
      await request(billing.getHttpServer()).get('/db/pg').expect(200);
      expect(pgQueries(billing)).toHaveLength(1);
      expect(pgQueries(orders)).toHaveLength(1);
      await orders.close();
      expect(patched()).toBe(true);
      await request(billing.getHttpServer()).get('/db/pg').expect(200);
      expect(pgQueries(billing)).toHaveLength(2);
    } finally {
      await orders.close();
      await billing.close();
    }
    expect(patched()).toBe(false);
  });

  it('under a preloaded SDK the option is ignored, saying so', async () => {
    const provider = new TracerProvider();
    trace.setGlobalTracerProvider(provider);
    const logs: string[] = [];
    const logger = { log: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: () => undefined };
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [TracingTestingModule.forRoot({ instrumentations: instrumentations() })],
      }).compile();
      const app = moduleRef.createNestApplication({ logger });
      await app.init();
      expect(patched()).toBe(false);
      expect(logs).toContain(
        'A preloaded OpenTelemetry SDK is in charge: option "instrumentations" (@opentelemetry/instrumentation-pg, ' +
          '@opentelemetry/instrumentation-mysql2, @opentelemetry/instrumentation-ioredis) is ignored. ' +
          'Register these instrumentations with that SDK instead.',
      );
      await app.close();
    } finally {
      trace.disable();
      await provider.shutdown();
    }
  });

  it('rejects what is not an instrumentation at startup', async () => {
    await expect(
      Test.createTestingModule({
        imports: [TracingTestingModule.forRoot({ instrumentations: [new PgInstrumentation(), {} as never] })],
      }).compile(),
    ).rejects.toThrow(
      'option "instrumentations" must be an array of OpenTelemetry instrumentations (e.g. new PgInstrumentation() ' +
        'from @opentelemetry/instrumentation-pg), got ["@opentelemetry/instrumentation-pg",{}]',
    );
  });
});
