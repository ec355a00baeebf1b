import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Args, Field, GraphQLModule, ID, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { ScheduleModule, Timeout } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { listen } from '../../support/platforms.js';
import { waitFor } from '../../support/wait-for.js';

/*
 * `autoTrace: { providers: true }` beside the entry points: a method an entry point claims
 * keeps its own span (a timer's run is still a root span, a listener still a listener), and
 * the packages' providers (@nestjs/graphql's request hooks among them) get none.
 */

@Injectable()
class Prices {
  price(id: string): number {
    return id.length * 10;
  }
}

@ObjectType()
class Order {
  @Field(() => ID)
  id!: string;

  @Field()
  price!: number;
}

@Resolver(() => Order)
class OrdersResolver {
  constructor(
    private readonly prices: Prices,
    private readonly events: EventEmitter2,
  ) {}

  @Query(() => Order)
  async orderById(@Args('id', { type: () => ID }) id: string): Promise<Order> {
    await this.events.emitAsync('order.viewed', id);
    return { id, price: this.prices.price(id) };
  }
}

@Injectable()
class Audit {
  viewed: string[] = [];

  @OnEvent('order.viewed')
  onViewed(id: string): void {
    this.viewed.push(id);
  }
}

@Injectable()
class WarmUp {
  warmed = 0;
  constructor(private readonly prices: Prices) {}

  @Timeout(5)
  warm(): void {
    this.warmed = this.prices.price('warm');
  }
}

describe('providers: true beside the entry points', () => {
  let app: INestApplication;
  afterEach(() => app?.close());

  it('keeps the entry points their spans and gives the packages none', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TracingTestingModule.forRoot({ serviceName: 'orders', autoTrace: { providers: true } }),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
      ],
      providers: [OrdersResolver, Prices, Audit, WarmUp],
    }).compile();
    app = await listen(moduleRef, 'express');
    const recorder = app.get(SpanRecorder);
    await waitFor(() => app.get(WarmUp).warmed > 0, 'the timeout run');
    const res = await request(app.getHttpServer())
      .post('/graphql')
      .send({ query: 'query OrderById { orderById(id: "7") { id price } }' })
      .expect(200);
    expect(res.body).toEqual({ data: { orderById: { id: '7', price: 10 } } });

    const warm = await waitFor(() => recorder.findAll('WarmUp.warm')[0], 'the scheduled span');
    expect([warm.attributes['nestjs.type'], warm.parentSpanContext]).toEqual(['scheduled', undefined]);
    const warmPrice = recorder
      .findAll('Prices.price')
      .find((s) => s.parentSpanContext?.spanId === warm.spanContext().spanId);
    expect(warmPrice?.attributes['nestjs.type']).toBe('provider');

    const server = recorder.find('POST /graphql query OrderById');
    const operation = recorder.find('query OrderById');
    const resolver = recorder.find('OrdersResolver.orderById');
    const listener = recorder.find('Audit.onViewed');
    expect(operation.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect([resolver.parentSpanContext?.spanId, resolver.attributes['nestjs.type']]).toEqual([
      operation.spanContext().spanId,
      'resolver',
    ]);
    expect([listener.parentSpanContext?.spanId, listener.attributes['nestjs.type']]).toEqual([
      resolver.spanContext().spanId,
      'listener',
    ]);
    const names = recorder.spans().map((s) => s.name);
    expect(names.filter((name) => /ResolverDecoratorHost|EventEmitter|GraphQL|Scheduler/.test(name))).toEqual([]);
  });
});
