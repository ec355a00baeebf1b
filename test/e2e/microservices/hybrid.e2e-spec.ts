import 'reflect-metadata';
import { Controller, Get, Inject, Param, ParseIntPipe, type INestApplication, type OnModuleInit } from '@nestjs/common';
import {
  ClientsModule,
  GrpcMethod,
  MessagePattern,
  Transport,
  type ClientGrpc,
  type ClientProxy,
  type GrpcOptions,
  type TcpOptions,
} from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { SpanKind } from '@opentelemetry/api';
import { fileURLToPath } from 'node:url';
import type { Observable } from 'rxjs';
import request from 'supertest';
import { TracingTestingModule } from 'nestjs-tracing/testing';
import { parentId, spanId, traceId } from '../../support/memory-tracing.js';
import { freshSpans, named, only, OrdersLedger, waitForSpans } from '../../support/microservices-harness.js';
import { freePort } from '../../support/ports.js';

const protoPath = fileURLToPath(new URL('./orders.proto', import.meta.url));

interface OrdersService {
  findOne(request: { id: number }): Observable<{ id: number; total: number }>;
}

/**
 * One app serving HTTP, TCP and gRPC, started the usual way: the microservices listen
 * (and gRPC binds its handlers) before app.listen() runs the module init hooks that
 * instrument them.
 */
describe('hybrid app: microservices started before the HTTP app initialises', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const tcpAddress = { host: '127.0.0.1', port: await freePort() };
    const tcp: TcpOptions = { transport: Transport.TCP, options: tcpAddress };
    const grpc: GrpcOptions = {
      transport: Transport.GRPC,
      options: { package: 'orders', protoPath, url: `127.0.0.1:${await freePort()}` },
    };

    @Controller('hybrid')
    class Hybrid implements OnModuleInit {
      private orders!: OrdersService;
      constructor(
        @Inject('TCP') private readonly tcp: ClientProxy,
        @Inject('GRPC') private readonly grpc: ClientGrpc,
        @Inject(OrdersLedger) private readonly ledger: OrdersLedger,
      ) {}
      onModuleInit() {
        this.orders = this.grpc.getService<OrdersService>('OrdersService');
      }
      @Get('tcp/:id')
      viaTcp(@Param('id', ParseIntPipe) id: number) {
        return this.tcp.send('hybrid.get', { id });
      }
      @Get('grpc/:id')
      viaGrpc(@Param('id', ParseIntPipe) id: number) {
        return this.orders.findOne({ id });
      }
      @MessagePattern('hybrid.get', Transport.TCP)
      get(data: { id: number }) {
        return this.ledger.load(data.id);
      }
      @GrpcMethod('OrdersService', 'FindOne')
      findOne(data: { id: number }) {
        return this.ledger.load(data.id);
      }
    }

    const moduleRef = await Test.createTestingModule({
      imports: [
        TracingTestingModule.forRoot({ serviceName: 'hybrid', autoTrace: false }),
        ClientsModule.register([
          { name: 'TCP', transport: Transport.TCP, options: tcpAddress },
          { name: 'GRPC', ...grpc },
        ]),
      ],
      controllers: [Hybrid],
      providers: [OrdersLedger],
    }).compile();
    app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    app.connectMicroservice(tcp);
    app.connectMicroservice(grpc);
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
  });
  afterAll(() => app?.close());
  beforeEach(() => freshSpans(app));

  it.each([
    ['tcp', 'send hybrid.get', 'process hybrid.get'],
    ['grpc', 'orders.OrdersService/FindOne', 'orders.OrdersService/FindOne'],
  ])('traces %s from the HTTP request to the handler', async (transport, clientName, serverName) => {
    const res = await request(app.getHttpServer()).get(`/hybrid/${transport}/6`);
    expect(res.body).toEqual({ id: 6, total: 60 });
    const spans = await waitForSpans(app, named('OrdersLedger.price'));
    const http = only(spans, `GET /hybrid/${transport}/:id`);
    const client = spans.find((s) => s.name === clientName && s.kind === SpanKind.CLIENT)!;
    const server = spans.find((s) => s.name === serverName && s.kind === SpanKind.SERVER)!;
    expect(parentId(client)).toBe(spanId(http));
    expect(parentId(server)).toBe(spanId(client));
    expect(parentId(only(spans, 'OrdersLedger.load'))).toBe(spanId(server));
    expect(new Set(spans.map(traceId))).toEqual(new Set([traceId(http)]));
  });
});
