import 'reflect-metadata';
import {
  Controller,
  Inject,
  Injectable,
  ValidationPipe,
  type INestMicroservice,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import {
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
  RpcException,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { IsInt } from 'class-validator';
import { map, take, timer } from 'rxjs';
import { SpanAttr, Trace } from 'nestjs-tracing';
import { TracingTestingModule } from 'nestjs-tracing/testing';
import type { Patterns } from './patterns.js';

/** How a test app of the microservices kit is traced and where it logs. */
export interface AppTracing {
  /** false: no tracing module at all (an untraced peer). Default true. */
  traced?: boolean;
  /** Extra span processors (e.g. a TracerFault). */
  spanProcessors?: SpanProcessor[];
  /** The app's Nest logger (one per process, see CapturedLogs); default none. */
  logger?: LoggerService | false;
}

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

function workerController(p: Patterns): Type<unknown> {
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

/** The orders worker; traced (service "orders-worker", spans in its SpanRecorder) unless `tracing.traced` is false. */
export async function startWorker(
  options: MicroserviceOptions,
  p: Patterns,
  tracing: AppTracing = {},
): Promise<INestMicroservice> {
  const { traced = true, spanProcessors, logger = false } = tracing;
  const moduleRef = await Test.createTestingModule({
    imports: traced
      ? [TracingTestingModule.forRoot({ serviceName: 'orders-worker', spanProcessors, autoTrace: false })]
      : [],
    controllers: [workerController(p)],
    providers: [OrdersLedger],
  }).compile();
  const worker = moduleRef.createNestMicroservice<MicroserviceOptions>({
    ...(options as object),
    logger,
  } as MicroserviceOptions);
  await worker.listen();
  return worker;
}
