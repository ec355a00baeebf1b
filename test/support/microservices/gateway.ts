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
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { ClientsModule, type ClientOptions, type ClientProxy } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { catchError, lastValueFrom, map, of, toArray } from 'rxjs';
import { SpanAttr, Trace } from 'nestjs-tracing';
import { TracingTestingModule } from 'nestjs-tracing/testing';
import { listen } from '../platforms.js';
import type { Patterns } from './patterns.js';
import type { AppTracing } from './worker.js';

@Injectable()
export class Audit {
  @Trace()
  check(@SpanAttr('order.id') id: number) {
    return id > 0;
  }
}

const ORDERS = 'ORDERS';
const PLAIN = 'PLAIN';

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

/** The traced HTTP gateway (service "gateway", spans in its SpanRecorder): ORDERS reaches `p`'s worker, PLAIN another. */
export async function startGateway(
  orders: ClientOptions,
  plain: ClientOptions,
  p: Patterns,
  plainPatterns: Patterns,
  tracing: Omit<AppTracing, 'traced'> = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TracingTestingModule.forRoot({
        serviceName: 'gateway',
        spanProcessors: tracing.spanProcessors,
        autoTrace: false,
      }),
      ClientsModule.register([
        { name: ORDERS, ...orders },
        { name: PLAIN, ...plain },
      ] as Parameters<typeof ClientsModule.register>[0]),
    ],
    controllers: [gatewayController(p, plainPatterns)],
    providers: [Audit],
  }).compile();
  return listen(moduleRef, 'express', tracing.logger);
}
