import 'reflect-metadata';
import { Metadata, status } from '@grpc/grpc-js';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Param,
  ParseIntPipe,
  type INestApplication,
  type INestMicroservice,
  type OnModuleInit,
} from '@nestjs/common';
import {
  ClientProxyFactory,
  ClientsModule,
  GrpcMethod,
  GrpcStreamMethod,
  RpcException,
  Transport,
  type ClientGrpc,
  type ClientGrpcProxy,
  type GrpcOptions,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { fileURLToPath } from 'node:url';
import { catchError, from, lastValueFrom, map, of, reduce, take, timer, toArray, type Observable } from 'rxjs';
import request from 'supertest';
import { Trace } from 'nestjs-tracing';
import { TracingTestingModule } from 'nestjs-tracing/testing';
import { CapturedLogs } from '../../support/captured-logs.js';
import { parentId, spanId, traceId } from '../../support/memory-tracing.js';
import {
  Audit,
  countOf,
  freshSpans,
  hrMs,
  inTrace,
  named,
  only,
  OrdersLedger,
  waitForSpans,
} from '../../support/microservices-harness.js';
import { listen } from '../../support/platforms.js';
import { freePort } from '../../support/ports.js';
import { TracerFault } from '../../support/tracer-fault.js';

const protoPath = fileURLToPath(new URL('./orders.proto', import.meta.url));
const grpcOptions = (port: number): GrpcOptions => ({
  transport: Transport.GRPC,
  options: { package: 'orders', protoPath, url: `127.0.0.1:${port}` },
});

interface Order {
  id: number;
  total: number;
  tenant?: string;
}
interface OrdersService {
  findOne(request: { id: number }, metadata?: Metadata): Observable<Order>;
  listOrders(request: { count: number }): Observable<Order>;
  sumOrders(requests: Observable<{ id: number }>): Observable<{ total: number }>;
  echo(request: { id: number }): Observable<{ traceparent: string; id: number }>;
}

@Injectable()
class Summer {
  @Trace()
  add(total: number, price: number) {
    return total + price;
  }
}

@Controller()
class OrdersGrpc {
  constructor(
    @Inject(OrdersLedger) private readonly ledger: OrdersLedger,
    @Inject(Summer) private readonly summer: Summer,
  ) {}

  @GrpcMethod('OrdersService', 'FindOne')
  async findOne(data: { id: number }, metadata: Metadata): Promise<Order> {
    if (data.id === 404) throw new RpcException({ code: status.NOT_FOUND, message: 'no order 404' });
    if (data.id === 500) return this.ledger.explode();
    const order = await this.ledger.load(data.id);
    return { ...order, tenant: String(metadata.get('x-tenant')[0] ?? '') };
  }

  @GrpcMethod('OrdersService', 'ListOrders')
  list(data: { count: number }): Observable<Order> {
    return timer(0, 3).pipe(
      take(data.count),
      map((i) => ({ id: i, total: this.ledger.price(i) })),
    );
  }

  @GrpcStreamMethod('OrdersService', 'SumOrders')
  sum(ids: Observable<{ id: number }>): Observable<{ total: number }> {
    return ids.pipe(
      map(({ id }) => this.ledger.price(id)),
      reduce((total, price) => this.summer.add(total, price), 0),
      map((total) => ({ total })),
    );
  }

  @GrpcMethod('OrdersService', 'Echo')
  echo(data: { id: number }, metadata: Metadata) {
    return { id: data.id, traceparent: String(metadata.get('traceparent')[0] ?? '') };
  }
}

@Controller('orders')
class GrpcGateway implements OnModuleInit {
  private orders!: OrdersService;
  private plain!: OrdersService;

  constructor(
    @Inject('ORDERS') private readonly client: ClientGrpc,
    @Inject('PLAIN') private readonly plainClient: ClientGrpc,
    @Inject(Audit) private readonly audit: Audit,
  ) {}

  onModuleInit() {
    this.orders = this.client.getService<OrdersService>('OrdersService');
    this.plain = this.plainClient.getService<OrdersService>('OrdersService');
  }

  @Get('list/:count')
  list(@Param('count', ParseIntPipe) count: number) {
    return this.orders.listOrders({ count }).pipe(toArray());
  }

  @Get('sum/:ids')
  sum(@Param('ids') ids: string) {
    return this.orders.sumOrders(from(ids.split(',').map((id) => ({ id: Number(id) }))));
  }

  @Get('plain/:id')
  viaPlainPeer(@Param('id', ParseIntPipe) id: number) {
    return this.plain.echo({ id });
  }

  @Get(':id')
  get(@Param('id', ParseIntPipe) id: number) {
    const metadata = new Metadata();
    metadata.set('x-tenant', 'acme');
    return this.orders.findOne({ id }, metadata).pipe(
      map((order) => ({
        ...order,
        checked: this.audit.check(order.id),
        untouched: metadata.get('traceparent').length === 0,
      })),
      catchError((error: { code?: number; details?: string }) =>
        of({ error: { code: error.code, details: error.details } }),
      ),
    );
  }
}

/** A worker on `port`; traced (service "orders-worker", with these span processors) when `spanProcessors` is given. */
async function startGrpcWorker(
  port: number,
  logs: CapturedLogs,
  spanProcessors?: TracerFault[],
): Promise<INestMicroservice> {
  const moduleRef = await Test.createTestingModule({
    imports: spanProcessors
      ? [TracingTestingModule.forRoot({ serviceName: 'orders-worker', spanProcessors, autoTrace: false })]
      : [],
    controllers: [OrdersGrpc],
    providers: [OrdersLedger, Summer],
  }).compile();
  const worker = moduleRef.createNestMicroservice<GrpcOptions>({ ...grpcOptions(port), logger: logs });
  await worker.listen();
  return worker;
}

describe('microservices over gRPC', () => {
  const logs = new CapturedLogs();
  const fault = new TracerFault();
  let worker: INestMicroservice;
  let plainWorker: INestMicroservice;
  let gateway: INestApplication;
  let bare: ClientGrpcProxy;
  let port: number;

  const front = (ready: (s: ReadableSpan[]) => boolean) => waitForSpans(gateway, ready);
  const back = (ready: (s: ReadableSpan[]) => boolean) => waitForSpans(worker, ready);
  const method = (name: string) => `orders.OrdersService/${name}`;

  beforeAll(async () => {
    port = await freePort();
    worker = await startGrpcWorker(port, logs, [fault]);
    const plainPort = await freePort();
    plainWorker = await startGrpcWorker(plainPort, logs);
    const moduleRef = await Test.createTestingModule({
      imports: [
        TracingTestingModule.forRoot({ serviceName: 'gateway', spanProcessors: [fault], autoTrace: false }),
        ClientsModule.register([
          { name: 'ORDERS', ...grpcOptions(port) },
          { name: 'PLAIN', ...grpcOptions(plainPort) },
        ]),
      ],
      controllers: [GrpcGateway],
      providers: [Audit],
    }).compile();
    gateway = await listen(moduleRef, 'express', logs);
    bare = ClientProxyFactory.create(grpcOptions(port)) as unknown as ClientGrpcProxy;
  });
  afterAll(async () => {
    bare?.close();
    await gateway?.close();
    await worker?.close();
    await plainWorker?.close();
  });
  beforeEach(() => {
    freshSpans(gateway);
    freshSpans(worker);
  });

  it('carries one trace from an HTTP request through a unary call into the handler, in a copy of the caller metadata', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/7');
    expect(res.body).toEqual({ id: 7, total: 70, tenant: 'acme', checked: true, untouched: true });

    const client = only(await front(named('Audit.check')), method('FindOne'));
    const spans = await front(named('Audit.check'));
    const http = only(spans, 'GET /orders/:id');
    expect(client.kind).toBe(SpanKind.CLIENT);
    expect(parentId(client)).toBe(spanId(http));
    expect(client.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'orders.OrdersService',
      'rpc.method': 'FindOne',
      'rpc.grpc.status_code': 0,
      'server.address': '127.0.0.1',
      'server.port': port,
    });
    expect(parentId(only(spans, 'Audit.check'))).toBe(spanId(http));

    const handled = await back(named('OrdersLedger.price'));
    const server = only(handled, method('FindOne'));
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(traceId(server)).toBe(traceId(http));
    expect(parentId(server)).toBe(spanId(client));
    expect(server.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'orders.OrdersService',
      'rpc.method': 'FindOne',
      'rpc.grpc.status_code': 0,
    });
    expect(server.resource.attributes['service.name']).toBe('orders-worker');
    const load = only(handled, 'OrdersLedger.load');
    expect(parentId(load)).toBe(spanId(server));
  });

  it('keeps 20 concurrent calls in their own traces', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => i + 100);
    const replies = await Promise.all(ids.map((id) => request(gateway.getHttpServer()).get(`/orders/${id}`)));
    replies.forEach((res, i) => expect(res.body.id).toBe(ids[i]));
    const spans = await front(countOf('Audit.check', 20));
    const handled = await back(countOf('OrdersLedger.load', 20));
    for (const id of ids) {
      const http = spans.find((s) => s.name === 'GET /orders/:id' && s.attributes['url.path'] === `/orders/${id}`)!;
      const mine = inTrace(spans, traceId(http));
      const client = only(mine, method('FindOne'));
      expect(parentId(client)).toBe(spanId(http));
      const check = only(mine, 'Audit.check');
      expect(parentId(check)).toBe(spanId(http));
      expect(check.attributes['order.id']).toBe(id);
      const theirs = inTrace(handled, traceId(http));
      const server = only(theirs, method('FindOne'));
      expect(parentId(server)).toBe(spanId(client));
      const load = only(theirs, 'OrdersLedger.load');
      expect(parentId(load)).toBe(spanId(server));
      expect(load.attributes['order.id']).toBe(id);
    }
  });

  it('records a gRPC status from an RpcException on both sides', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/404');
    expect(res.body).toEqual({ error: { code: status.NOT_FOUND, details: 'no order 404' } });
    const server = only(await back(named(method('FindOne'))), method('FindOne'));
    expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no order 404' });
    expect(server.attributes).toMatchObject({
      'rpc.grpc.status_code': status.NOT_FOUND,
      'error.type': String(status.NOT_FOUND),
    });
    expect(server.events.find((e) => e.name === 'exception')?.attributes?.['exception.message']).toBe('no order 404');
    const client = only(await front(named(method('FindOne'))), method('FindOne'));
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes['rpc.grpc.status_code']).toBe(status.NOT_FOUND);
    expect(client.attributes['error.type']).toBe(String(status.NOT_FOUND));
  });

  it('records an unexpected error as UNKNOWN, with the original on the @Trace span', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/500');
    expect(res.body.error.code).toBe(status.UNKNOWN);
    const handled = await back(named('OrdersLedger.explode'));
    const server = only(handled, method('FindOne'));
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.attributes['rpc.grpc.status_code']).toBe(status.UNKNOWN);
    expect(only(handled, 'OrdersLedger.explode').status.message).toBe('ledger is on fire');
    const client = only(await front(named(method('FindOne'))), method('FindOne'));
    expect(client.attributes['rpc.grpc.status_code']).toBe(status.UNKNOWN);
  });

  it('covers a server-streaming call until its last message', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/list/4');
    expect(res.body.map((o: Order) => o.total)).toEqual([0, 10, 20, 30]);
    const handled = await back(countOf('OrdersLedger.price', 4));
    const server = only(handled, method('ListOrders'));
    for (const price of handled.filter((s) => s.name === 'OrdersLedger.price'))
      expect(parentId(price)).toBe(spanId(server));
    expect(hrMs(server.duration)).toBeGreaterThanOrEqual(8);
    const client = only(await front(named(method('ListOrders'))), method('ListOrders'));
    expect(parentId(server)).toBe(spanId(client));
    expect(client.attributes['rpc.grpc.status_code']).toBe(0);
  });

  it('parents work on client-streamed messages to the server span', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/sum/1,2,3');
    expect(res.body).toEqual({ total: 60 });
    const handled = await back(countOf('Summer.add', 3));
    const server = only(handled, method('SumOrders'));
    const work = handled.filter((s) => s.name === 'OrdersLedger.price' || s.name === 'Summer.add');
    expect(work).toHaveLength(6);
    for (const span of work) expect(parentId(span)).toBe(spanId(server));
    const client = only(await front(named(method('SumOrders'))), method('SumOrders'));
    expect(parentId(server)).toBe(spanId(client));
  });

  it('serves an untraced client: the call starts a new trace at the worker', async () => {
    const reply = await lastValueFrom(bare.getService<OrdersService>('OrdersService').findOne({ id: 5 }));
    expect(reply).toEqual({ id: 5, total: 50, tenant: '' });
    const server = only(await back(named(method('FindOne'))), method('FindOne'));
    expect(parentId(server)).toBeUndefined();
  });

  it('keeps calls working when tracing itself fails', async () => {
    fault.failing = true;
    try {
      expect((await request(gateway.getHttpServer()).get('/orders/3')).body).toMatchObject({ id: 3, total: 30 });
      expect((await request(gateway.getHttpServer()).get('/orders/list/2')).body).toHaveLength(2);
      // only the gateway calls, only the worker serves: each message names the side that said it
      const said = (what: string) => logs.tracing(new RegExp(what));
      expect(said('gRPC client span')).toHaveLength(1);
      expect(said('gRPC server span')).toHaveLength(1);
    } finally {
      fault.failing = false;
    }
  });

  it('reaches an untraced worker, with the context in the gRPC metadata', async () => {
    const res = await request(gateway.getHttpServer()).get('/orders/plain/9');
    const client = only(await front(named(method('Echo'))), method('Echo'));
    expect(res.body).toEqual({ id: 9, traceparent: `00-${traceId(client)}-${spanId(client)}-01` });
  });
});
