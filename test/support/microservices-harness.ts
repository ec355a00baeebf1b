import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Param,
  ParseIntPipe,
  Post,
  ValidationPipe,
  type INestApplication,
  type INestMicroservice,
  type Type,
} from '@nestjs/common';
import {
  ClientProxyFactory,
  ClientsModule,
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
  RpcException,
  type ClientOptions,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { IsInt } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { catchError, lastValueFrom, map, of, take, timer, toArray } from 'rxjs';
import request from 'supertest';
import { jest } from '@jest/globals';
import { SpanAttr, Trace, TracingModule } from '../../lib/index.js';
import { TracingRuntime } from '../../lib/runtime/tracing-runtime.js';
import { exportedSpans, InMemorySpanExporter, parentId, spanId, traceId } from './memory-tracing.js';
import { listen } from './platforms.js';

/** Unique per test file and run, so parallel runs on one broker never see each other's messages. */
export const RUN = randomUUID().slice(0, 8);

export interface Patterns {
  get: string;
  fail: string;
  stream: string;
  created: string;
  echo: string;
}

export const patternsFor = (prefix: string): Patterns => ({
  get: `${prefix}.orders.get`,
  fail: `${prefix}.orders.fail`,
  stream: `${prefix}.orders.stream`,
  created: `${prefix}.orders.created`,
  echo: `${prefix}.orders.echo`,
});

/* ------------------------------------------------------------------ worker */

class GetOrder {
  @IsInt()
  id!: number;
}

/** @EventPattern's typing wants a handler that accepts `{}`. */
class OrderCreated {
  @IsInt()
  id?: number;
}

/** forbidNonWhitelisted: any key tracing slipped into `data` would fail the request. */
const strict = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

@Injectable()
export class OrdersLedger {
  @Trace()
  async load(@SpanAttr('order.id') id: number) {
    await new Promise((resolve) => setImmediate(resolve));
    return { id, total: this.price(id) };
  }

  @Trace()
  price(@SpanAttr('order.id') id: number) {
    return id * 10;
  }

  @Trace()
  async record(@SpanAttr('order.id') id: number) {
    await new Promise((resolve) => setImmediate(resolve));
    return id;
  }

  @Trace()
  async explode(): Promise<never> {
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('ledger is on fire');
  }
}

/** What reached the handler: the payload as received, and the transport's carrier (headers, metadata). */
export function carrierOf(ctx: unknown): Record<string, unknown> | undefined {
  const c = ctx as {
    getMetadata?: () => Record<string, unknown> | undefined;
    getHeaders?: () => { keys(): string[]; get(k: string): string } | undefined;
    getMessage?: () => { properties?: { headers?: Record<string, unknown> } };
    getPacket?: () => { properties?: { userProperties?: Record<string, unknown> } };
  };
  if (typeof c.getMetadata === 'function') return c.getMetadata();
  if (typeof c.getHeaders === 'function') {
    const headers = c.getHeaders();
    return headers ? Object.fromEntries(headers.keys().map((k) => [k, headers.get(k)])) : undefined;
  }
  if (typeof c.getMessage === 'function') return c.getMessage().properties?.headers;
  if (typeof c.getPacket === 'function') return c.getPacket().properties?.userProperties;
  return undefined;
}

export function workerController(p: Patterns): Type<unknown> {
  @Controller()
  class OrdersWorker {
    constructor(@Inject(OrdersLedger) private readonly ledger: OrdersLedger) {}

    @MessagePattern(p.get)
    get(@Payload(strict) order: GetOrder) {
      return this.ledger.load(order.id);
    }

    @MessagePattern(p.fail)
    fail(@Payload() data: { kind: string }) {
      if (data.kind === 'rpc') throw new RpcException('order is locked');
      return this.ledger.explode();
    }

    @MessagePattern(p.stream)
    stream(@Payload() data: { count: number }) {
      return timer(0, 3).pipe(
        take(data.count),
        map((i) => this.ledger.price(i)),
      );
    }

    @EventPattern(p.created)
    async created(@Payload(strict) order: OrderCreated) {
      await this.ledger.record(order.id!);
    }

    @MessagePattern(p.echo)
    echo(@Payload() data: unknown, @Ctx() ctx: unknown) {
      return { data, carrier: carrierOf(ctx) ?? null };
    }
  }
  return OrdersWorker;
}

/* ------------------------------------------------------------------ gateway */

@Injectable()
export class Audit {
  @Trace()
  check(@SpanAttr('order.id') id: number) {
    return id > 0;
  }
}

export const ORDERS = 'ORDERS';
export const PLAIN = 'PLAIN';

function gatewayController(p: Patterns, plain: Patterns): Type<unknown> {
  @Controller('orders')
  class Gateway {
    constructor(
      @Inject(ORDERS) private readonly orders: ClientProxy,
      @Inject(PLAIN) private readonly plain: ClientProxy,
      @Inject(Audit) private readonly audit: Audit,
    ) {}

    // The reply is used in an operator: that code runs wherever the transport delivers the reply.
    @Get(':id')
    get(@Param('id', ParseIntPipe) id: number) {
      return this.orders
        .send(p.get, { id })
        .pipe(map((order: { id: number }) => ({ ...order, checked: this.audit.check(order.id) })));
    }

    @Post(':id/created')
    @HttpCode(202)
    async created(@Param('id', ParseIntPipe) id: number) {
      await lastValueFrom(this.orders.emit(p.created, { id }));
      return { queued: id };
    }

    @Get('fail/:kind')
    fail(@Param('kind') kind: string) {
      return this.orders.send(p.fail, { kind }).pipe(catchError((error: unknown) => of({ error })));
    }

    @Get('stream/:count')
    stream(@Param('count', ParseIntPipe) count: number) {
      return this.orders.send(p.stream, { count }).pipe(toArray());
    }

    @Get(':id/plain')
    viaPlainPeer(@Param('id', ParseIntPipe) id: number) {
      return this.plain.send(plain.echo, { id });
    }
  }
  return Gateway;
}

/* ------------------------------------------------------------------ apps */

export async function startWorker(
  options: MicroserviceOptions,
  p: Patterns,
  exporter?: InMemorySpanExporter,
): Promise<INestMicroservice> {
  const moduleRef = await Test.createTestingModule({
    imports: exporter ? [TracingModule.forRoot({ serviceName: 'orders-worker', exporter, autoTrace: false })] : [],
    controllers: [workerController(p)],
    providers: [OrdersLedger],
  }).compile();
  const worker = moduleRef.createNestMicroservice<MicroserviceOptions>({
    ...(options as object),
    logger: false,
  } as MicroserviceOptions);
  await worker.listen();
  return worker;
}

export async function startGateway(
  orders: ClientOptions,
  plain: ClientOptions,
  p: Patterns,
  plainPatterns: Patterns,
  exporter: InMemorySpanExporter,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TracingModule.forRoot({ serviceName: 'gateway', exporter, autoTrace: false }),
      ClientsModule.register([
        { name: ORDERS, ...orders },
        { name: PLAIN, ...plain },
      ] as Parameters<typeof ClientsModule.register>[0]),
    ],
    controllers: [gatewayController(p, plainPatterns)],
    providers: [Audit],
  }).compile();
  return listen(moduleRef, 'express');
}

/* ------------------------------------------------------------------ spans */

/** Forgets every span so far, including those still queued in the batch processor. */
export async function freshSpans(
  app: INestApplication | INestMicroservice,
  exporter: InMemorySpanExporter,
): Promise<void> {
  await exportedSpans(app as INestApplication, exporter);
  exporter.reset();
}

/** Polls the app's exporter until `ready` holds; spans of events end after the sender moved on. */
export async function waitForSpans(
  app: INestApplication | INestMicroservice,
  exporter: InMemorySpanExporter,
  ready: (spans: ReadableSpan[]) => boolean,
  timeoutMs = 5000,
): Promise<ReadableSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = await exportedSpans(app as INestApplication, exporter);
    if (ready(spans)) return spans;
    if (Date.now() > deadline) {
      throw new Error(
        `spans not ready after ${timeoutMs} ms; have: ${spans.map((s) => `${s.name}(${traceId(s).slice(0, 6)})`).join(', ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const named = (name: string) => (spans: ReadableSpan[]) => spans.some((s) => s.name === name);
export const countOf = (name: string, n: number) => (spans: ReadableSpan[]) =>
  spans.filter((s) => s.name === name).length >= n;
export const inTrace = (spans: ReadableSpan[], id: string) => spans.filter((s) => traceId(s) === id);

export function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1)
    throw new Error(`expected one "${name}", got ${found.length} among: ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

/* ------------------------------------------------------------------ the suite */

export interface TransportCase {
  /** messaging.system */
  system: string;
  /** Options for a worker serving `prefix`'s patterns (queue, topics, address). */
  serverOptions(prefix: string): MicroserviceOptions;
  /** Options for a client of that worker once it listens. */
  clientOptions(worker: INestMicroservice, prefix: string): ClientOptions;
  /** messaging.destination.name of a message sent with `pattern` to `prefix`'s worker. */
  destination(pattern: string, prefix: string): string;
  /** Attributes every client span of this transport has (broker address). */
  clientAttributes?: Attributes;
  /** Whether the worker's RPC context shows the carrier (MQTT 3.1.1 keeps the envelope to itself). */
  carrierVisible: boolean;
  /** Where the context travels, as the README says: checked on an untraced worker. */
  carrierName: string;
}

/**
 * The same scenarios for every pattern-based transport: a traced HTTP gateway sending to a
 * traced worker, an untraced worker and an untraced client on the side. Call inside a describe.
 */
export function defineTransportTests(t: TransportCase): void {
  const prefix = `${RUN}.traced`;
  const plainPrefix = `${RUN}.plain`;
  const p = patternsFor(prefix);
  const plainPatterns = patternsFor(plainPrefix);
  const gatewayExporter = new InMemorySpanExporter();
  const workerExporter = new InMemorySpanExporter();
  let worker: INestMicroservice;
  let plainWorker: INestMicroservice;
  let gateway: INestApplication;
  let bareClient: ClientProxy;

  const gatewaySpans = (ready: (s: ReadableSpan[]) => boolean = () => true) =>
    waitForSpans(gateway, gatewayExporter, ready);
  const workerSpans = (ready: (s: ReadableSpan[]) => boolean) => waitForSpans(worker, workerExporter, ready);

  beforeAll(async () => {
    worker = await startWorker(t.serverOptions(prefix), p, workerExporter);
    plainWorker = await startWorker(t.serverOptions(plainPrefix), plainPatterns);
    gateway = await startGateway(
      t.clientOptions(worker, prefix),
      t.clientOptions(plainWorker, plainPrefix),
      p,
      plainPatterns,
      gatewayExporter,
    );
    bareClient = ClientProxyFactory.create(t.clientOptions(worker, prefix));
  });
  afterAll(async () => {
    await bareClient?.close();
    await gateway?.close();
    await worker?.close();
    await plainWorker?.close();
  });
  beforeEach(async () => {
    await freshSpans(gateway, gatewayExporter);
    await freshSpans(worker, workerExporter);
  });

  it('carries one trace from an HTTP request through send() into the handler and its @Trace spans', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/7');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 7, total: 70, checked: true });

    const front = await gatewaySpans(named('Audit.check'));
    const http = only(front, 'GET /orders/:id');
    const client = only(front, `send ${p.get}`);
    expect(client.kind).toBe(SpanKind.CLIENT);
    expect(parentId(client)).toBe(spanId(http));
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
    expect(client.attributes).toMatchObject({
      'messaging.system': t.system,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': t.destination(p.get, prefix),
      ...t.clientAttributes,
    });
    // the reply is handled in the request's context, not the connection's
    const check = only(front, 'Audit.check');
    expect(parentId(check)).toBe(spanId(http));
    expect(client.resource.attributes['service.name']).toBe('gateway');

    const back = await workerSpans(named('OrdersLedger.price'));
    const server = only(back, `process ${p.get}`);
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(traceId(server)).toBe(traceId(http));
    expect(parentId(server)).toBe(spanId(client));
    expect(server.attributes).toMatchObject({
      'messaging.system': t.system,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    expect(server.resource.attributes['service.name']).toBe('orders-worker');
    const load = only(back, 'OrdersLedger.load');
    expect(parentId(load)).toBe(spanId(server));
    expect(load.attributes['order.id']).toBe(7);
    expect(parentId(only(back, 'OrdersLedger.price'))).toBe(spanId(load));
  });

  it('gives emit() a PRODUCER span and the @EventPattern handler a CONSUMER span beneath it', async () => {
    const res = await request(gateway.getHttpServer()).post('/orders/8/created');
    expect(res.status).toBe(202);
    const front = await gatewaySpans(named(`emit ${p.created}`));
    const http = only(front, 'POST /orders/:id/created');
    const producer = only(front, `emit ${p.created}`);
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(parentId(producer)).toBe(spanId(http));
    expect(producer.attributes).toMatchObject({
      'messaging.system': t.system,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'emit',
      'messaging.destination.name': t.destination(p.created, prefix),
    });

    const back = await workerSpans(named('OrdersLedger.record'));
    const consumer = only(back, `process ${p.created}`);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(traceId(consumer)).toBe(traceId(http));
    expect(parentId(consumer)).toBe(spanId(producer));
    expect(consumer.attributes['messaging.operation.type']).toBe('process');
    const record = only(back, 'OrdersLedger.record');
    expect(parentId(record)).toBe(spanId(consumer));
    expect(record.attributes['order.id']).toBe(8);
  });

  it('keeps 20 concurrent requests and 20 concurrent events in their own traces', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => i + 100);
    const server = gateway.getHttpServer();
    const [replies, accepted] = await Promise.all([
      Promise.all(ids.map((id) => request(server).get(`/orders/${id}`))),
      Promise.all(ids.map((id) => request(server).post(`/orders/${id + 1000}/created`))),
    ]);
    replies.forEach((res, i) => expect(res.body).toEqual({ id: ids[i], total: ids[i]! * 10, checked: true }));
    accepted.forEach((res) => expect(res.status).toBe(202));

    const front = await gatewaySpans((s) => countOf('Audit.check', 20)(s) && countOf(`emit ${p.created}`, 20)(s));
    const back = await workerSpans((s) => countOf('OrdersLedger.load', 20)(s) && countOf('OrdersLedger.record', 20)(s));
    for (const id of ids) {
      const http = front.find((s) => s.name === 'GET /orders/:id' && s.attributes['url.path'] === `/orders/${id}`)!;
      expect(http).toBeDefined();
      const trace = traceId(http);
      const mine = inTrace(front, trace);
      const client = only(mine, `send ${p.get}`);
      expect(parentId(client)).toBe(spanId(http));
      const check = only(mine, 'Audit.check');
      expect(parentId(check)).toBe(spanId(http));
      expect(check.attributes['order.id']).toBe(id);
      const theirs = inTrace(back, trace);
      const handled = only(theirs, `process ${p.get}`);
      expect(parentId(handled)).toBe(spanId(client));
      const load = only(theirs, 'OrdersLedger.load');
      expect(parentId(load)).toBe(spanId(handled));
      expect(load.attributes['order.id']).toBe(id);

      const post = front.find(
        (s) => s.name === 'POST /orders/:id/created' && s.attributes['url.path'] === `/orders/${id + 1000}/created`,
      )!;
      const producer = only(inTrace(front, traceId(post)), `emit ${p.created}`);
      expect(parentId(producer)).toBe(spanId(post));
      const consumed = inTrace(back, traceId(post));
      const consumer = only(consumed, `process ${p.created}`);
      expect(parentId(consumer)).toBe(spanId(producer));
      const record = only(consumed, 'OrdersLedger.record');
      expect(parentId(record)).toBe(spanId(consumer));
      expect(record.attributes['order.id']).toBe(id + 1000);
    }
  });

  it('records an RpcException on the server span and the client span', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/fail/rpc');
    expect(res.body).toEqual({ error: { status: 'error', message: 'order is locked' } });
    const back = await workerSpans(named(`process ${p.fail}`));
    const server = only(back, `process ${p.fail}`);
    expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: 'order is locked' });
    expect(server.events.find((e) => e.name === 'exception')?.attributes?.['exception.message']).toBe(
      'order is locked',
    );
    const front = await gatewaySpans(named(`send ${p.fail}`));
    const client = only(front, `send ${p.fail}`);
    expect(client.status).toEqual({ code: SpanStatusCode.ERROR, message: 'order is locked' });
    expect(client.attributes['error.type']).toBeDefined();
    expect(parentId(server)).toBe(spanId(client));
  });

  it('records an unexpected error: its own message on the @Trace span, what the client gets on the message spans', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/fail/boom');
    expect(res.body).toEqual({ error: { status: 'error', message: 'Internal server error' } });
    const back = await workerSpans(named(`process ${p.fail}`));
    const server = only(back, `process ${p.fail}`);
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.status.message).toBe('Internal server error');
    const explode = only(back, 'OrdersLedger.explode');
    expect(parentId(explode)).toBe(spanId(server));
    expect(explode.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ledger is on fire' });
    const front = await gatewaySpans(named(`send ${p.fail}`));
    expect(only(front, `send ${p.fail}`).status.code).toBe(SpanStatusCode.ERROR);
  });

  it('covers a streamed (Observable) response until its last value', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/stream/4');
    expect(res.body).toEqual([0, 10, 20, 30]);
    const back = await workerSpans(countOf('OrdersLedger.price', 4));
    const server = only(back, `process ${p.stream}`);
    const prices = back.filter((s) => s.name === 'OrdersLedger.price');
    expect(prices).toHaveLength(4);
    for (const price of prices) expect(parentId(price)).toBe(spanId(server));
    // four values 3 ms apart: the span lasts until the last one, not until the handler returned
    expect(hrMs(server.duration)).toBeGreaterThanOrEqual(8);
    const front = await gatewaySpans(named(`send ${p.stream}`));
    const client = only(front, `send ${p.stream}`);
    expect(parentId(server)).toBe(spanId(client));
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('serves an untraced client: its message starts a new trace at the worker', async () => {
    const reply = await lastValueFrom(bareClient.send(p.get, { id: 5 }));
    expect(reply).toEqual({ id: 5, total: 50 });
    const back = await workerSpans(named('OrdersLedger.load'));
    const server = only(back, `process ${p.get}`);
    expect(parentId(server)).toBeUndefined();
    expect(parentId(only(back, 'OrdersLedger.load'))).toBe(spanId(server));
  });

  it('keeps messages flowing when tracing itself fails, and says so once', async () => {
    const runtimes = [gateway.get(TracingRuntime), worker.get(TracingRuntime)];
    const spies = runtimes.flatMap((runtime) => [
      jest.spyOn(runtime.tracer, 'startSpan').mockImplementation(() => {
        throw new Error('tracer down');
      }),
      jest.spyOn(runtime.logger, 'warn').mockImplementation(() => undefined),
    ]);
    try {
      const [res, accepted] = await Promise.all([
        request(gateway.getHttpServer()).get('/orders/3'),
        request(gateway.getHttpServer()).post('/orders/4/created'),
      ]);
      expect(res.body).toEqual({ id: 3, total: 30, checked: true });
      expect(accepted.status).toBe(202);
      const again = await request(gateway.getHttpServer()).get('/orders/5');
      expect(again.body).toEqual({ id: 5, total: 50, checked: true });
      const gatewayWarnings = (runtimes[0]!.logger.warn as jest.Mock).mock.calls.map((c) => String(c[0]));
      expect(gatewayWarnings.filter((w) => w.includes('microservice client span'))).toHaveLength(1);
      // the event may still be on its way: wait for the worker to have said it once
      await waitUntil(() =>
        (runtimes[1]!.logger.warn as jest.Mock).mock.calls.some((c) =>
          String(c[0]).includes('microservice server span'),
        ),
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it(`reaches an untraced worker unchanged, with the context in the ${t.carrierName}`, async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/9/plain');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: 9 });
    const front = await gatewaySpans(named(`send ${plainPatterns.echo}`));
    const client = only(front, `send ${plainPatterns.echo}`);
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
    if (t.carrierVisible) {
      expect(res.body.carrier).toMatchObject({ traceparent: `00-${traceId(client)}-${spanId(client)}-01` });
    }
  });
}

export const hrMs = ([s, ns]: [number, number]): number => s * 1e3 + ns / 1e6;

/** A port nothing listens on right now (gRPC servers do not report the port they bound). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
