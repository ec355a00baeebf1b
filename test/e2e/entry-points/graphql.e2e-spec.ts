import 'reflect-metadata';
import { Injectable, NotFoundException, UseGuards, type CanActivate, type INestApplication } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import {
  Args,
  Field,
  GraphQLModule,
  ID,
  Mutation,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { Test } from '@nestjs/testing';
import { SpanStatusCode } from '@opentelemetry/api';
import request from 'supertest';
import type { TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { listen, type Platform } from '../../support/platforms.js';

@ObjectType()
class Item {
  @Field()
  sku!: string;
}

@ObjectType()
class Order {
  @Field(() => ID)
  id!: string;

  @Field()
  status!: string;
}

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Resolver(() => Order)
class OrdersResolver {
  @Query(() => Order)
  orderById(@Args('id', { type: () => ID }) id: string): Order {
    if (id === 'missing') throw new NotFoundException(`order ${id}`);
    return { id, status: 'open' };
  }

  @Mutation(() => Order)
  async placeOrder(@Args('sku') sku: string): Promise<Order> {
    await Promise.resolve();
    return { id: `o-${sku}`, status: 'placed' };
  }

  @Query(() => String)
  broken(): string {
    throw new Error('resolver failed');
  }

  @UseGuards(DenyGuard)
  @Query(() => String)
  secret(): string {
    return 'never';
  }

  @ResolveField(() => [Item])
  async items(@Parent() order: Order): Promise<Item[]> {
    await new Promise((resolve) => setImmediate(resolve));
    return [{ sku: `${order.id}-a` }];
  }
}

const DRIVERS: Array<[string, Platform]> = [
  ['Apollo', 'express'],
  ['Mercurius', 'fastify'],
];

async function boot(driver: string, platform: Platform, options: TracingModuleOptions = {}) {
  const graphql =
    driver === 'Apollo'
      ? GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true })
      : GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true });
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'graphql', ...options }), graphql],
    providers: [OrdersResolver, DenyGuard],
  }).compile();
  const app = await listen(moduleRef, platform);
  return { app, recorder: app.get(SpanRecorder) };
}

const ORDER_BY_ID = 'query OrderById($id: ID!) { orderById(id: $id) { id status items { sku } } }';

describe.each(DRIVERS)('GraphQL spans (%s on %s)', (driver, platform) => {
  let app: INestApplication;
  let recorder: SpanRecorder;

  afterEach(async () => {
    await app?.close();
  });

  const post = (body: object) => request(app.getHttpServer()).post('/graphql').send(body);

  it('makes an operation span beneath the request, resolver spans beneath it, and renames the request', async () => {
    const original = OrdersResolver.prototype.orderById;
    ({ app, recorder } = await boot(driver, platform));
    const wrapped = OrdersResolver.prototype.orderById;
    expect(wrapped).not.toBe(original);
    expect([wrapped.name, wrapped.length]).toEqual(['orderById', 1]);
    expect(Reflect.getMetadata('graphql:resolver_type', wrapped)).toBe('Query');
    expect(Reflect.getMetadata('graphql:resolve_property', OrdersResolver.prototype.items)).toBe(true);
    const res = await post({ query: ORDER_BY_ID, variables: { id: '7' } }).expect(200);
    expect(res.body).toEqual({ data: { orderById: { id: '7', status: 'open', items: [{ sku: '7-a' }] } } });

    const operation = recorder.find('query OrderById');
    const server = recorder.find('POST /graphql query OrderById');
    expect(operation.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(operation.attributes).toEqual({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'OrderById' });
    expect(operation.status.code).toBe(SpanStatusCode.UNSET);
    for (const [name, field] of [
      ['OrdersResolver.orderById', 'orderById'],
      ['OrdersResolver.items', 'items'],
    ]) {
      const span = recorder.find(name as string);
      expect(span.parentSpanContext?.spanId).toBe(operation.spanContext().spanId);
      expect(span.attributes).toMatchObject({ 'nestjs.type': 'resolver', 'graphql.field.name': field });
    }
    // trivial fields (id, status, sku) get no span
    expect(recorder.spans()).toHaveLength(4);
  });

  it('names mutations, and records the masked document only when asked', async () => {
    ({ app, recorder } = await boot(driver, platform, { graphql: { document: true } }));
    await post({ query: 'mutation PlaceOrder { placeOrder(sku: "secret-sku") { id } }' }).expect(200);
    const operation = recorder.find('mutation PlaceOrder');
    expect(operation.attributes['graphql.document']).toBe('mutation PlaceOrder{placeOrder(sku:"*"){id}}');
    expect(recorder.find('OrdersResolver.placeOrder').parentSpanContext?.spanId).toBe(operation.spanContext().spanId);
  });

  it('marks the operation failed by errors in a 200 response; Apollo keeps 4xx exceptions and guard refusals as answers', async () => {
    ({ app, recorder } = await boot(driver, platform));
    const broken = await post({ query: 'query Broken { broken }' }).expect(200);
    expect(broken.body.errors[0].message).toBe('resolver failed');
    const operation = recorder.find('query Broken');
    expect(operation.status.code).toBe(SpanStatusCode.ERROR);
    // Mercurius hands its hooks the errors formatted for the response, their cause gone
    expect(operation.attributes['error.type']).toBe(driver === 'Apollo' ? 'Error' : 'GraphQLError');
    expect(operation.events.map((e) => e.name)).toEqual(['exception']);
    expect(recorder.find('OrdersResolver.broken').status.code).toBe(SpanStatusCode.ERROR);

    const refused = await post({ query: 'query Secret { secret }' }).expect(200);
    expect(refused.body.errors[0].message).toBe('Forbidden resource');
    expect(recorder.findAll('OrdersResolver.secret')).toEqual([]);
    const secret = recorder.find('query Secret');
    expect(secret.events.map((e) => e.name)).toEqual(['exception']);
    const answer = driver === 'Apollo' ? SpanStatusCode.UNSET : SpanStatusCode.ERROR;
    expect(secret.status.code).toBe(answer);

    const missing = await post({ query: ORDER_BY_ID, variables: { id: 'missing' } }).expect(200);
    expect(missing.body.errors[0].message).toBe('order missing');
    const notFound = recorder.findAll('query OrderById')[0];
    expect(notFound?.status.code).toBe(answer);
    expect(notFound?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('ends the operation of a document that does not validate, as the client error it is', async () => {
    ({ app, recorder } = await boot(driver, platform));
    await post({ query: 'query Bad { nope }' }).expect(400);
    await recorder.flush();
    const operation = recorder.find('query Bad');
    expect(operation.status.code).toBe(SpanStatusCode.UNSET);
    expect(operation.parentSpanContext?.spanId).toBe(
      recorder
        .spans()
        .find((s) => s.name.startsWith('POST'))
        ?.spanContext().spanId,
    );
  });

  it('keeps concurrent operations apart', async () => {
    ({ app, recorder } = await boot(driver, platform));
    const ids = Array.from({ length: 10 }, (_, n) => String(n));
    const answers = await Promise.all(ids.map((id) => post({ query: ORDER_BY_ID, variables: { id } })));
    expect(answers.map((r) => (r.body as { data: { orderById: { id: string } } }).data.orderById.id)).toEqual(ids);
    const operations = recorder.findAll('query OrderById');
    expect(operations).toHaveLength(10);
    for (const operation of operations) {
      expect(
        recorder
          .childrenOf(operation)
          .map((s) => s.name)
          .sort(),
      ).toEqual(['OrdersResolver.items', 'OrdersResolver.orderById']);
    }
  });

  it('keeps resolver metadata, and adds nothing with autoTrace.resolvers: false', async () => {
    ({ app, recorder } = await boot(driver, platform, { autoTrace: { resolvers: false } }));
    await post({ query: ORDER_BY_ID, variables: { id: '1' } }).expect(200);
    expect(Reflect.getMetadata('graphql:resolver_type', OrdersResolver.prototype.orderById)).toBe('Query');
    expect(recorder.spans().map((s) => s.name)).toEqual([expect.stringMatching(/^POST( \/graphql)?$/)]);
  });
});
