import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { BROKERS, describeWithBroker } from '../../support/brokers.js';
import { npmInstall, jsonLines, listening, start, withOutput, type RunningApp } from '../../support/nest11-app.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlp-receiver.js';
import type { ReceivedSpan } from '../../support/received-span.js';
import { waitFor } from '../../support/wait-for.js';

/*
 * The fixture's entry-points.ts, on the Nest 11 line of each package (@nestjs/websockets 11,
 * event-emitter 3, schedule 6, graphql + apollo 13, bullmq 11 with bullmq 5): spans with the
 * names, parents and traces the Nest 12 suites assert, exported over OTLP by the app's own
 * process. Then the same app on a @nestjs/graphql without request hooks (13.4.3).
 */
const connection = { host: BROKERS.redis.host, port: BROKERS.redis.port };
const queues: string[] = [];

async function boot(appDir: string, env: Record<string, string> = {}) {
  const queue = `consumer11-jobs-${randomBytes(4).toString('hex')}`;
  queues.push(queue);
  const receiver = await startOtlpReceiver();
  const app = start(appDir, 'entry-points.js', { OTLP_URL: receiver.url, QUEUE: queue, ...env });
  return { app, receiver, queue, port: await withOutput(app, () => listening(app)) };
}

/** The one span named `name`, once the receiver has it. */
const span = (receiver: OtlpReceiver, name: string): Promise<ReceivedSpan> =>
  waitFor(() => receiver.byName(name)[0], `span "${name}"`, 10_000);

const sender = () => {
  const ids = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
  return { ...ids, _meta: { traceparent: `00-${ids.traceId}-${ids.spanId}-01` } };
};

const graphql = (port: number) =>
  fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query OrderById { orderById(id: "7") { id status } }' }),
  }).then((r) => r.json());

export async function entryPointSuite(appDir: () => string): Promise<void> {
  await describeWithBroker(BROKERS.redis, 'installed package in a Nest 11 CommonJS app: the other entry points', () => {
    let running: { app: RunningApp; receiver: OtlpReceiver } | undefined;

    afterEach(async () => {
      running?.app.child.kill('SIGKILL');
      await running?.receiver.close();
      running = undefined;
    });
    afterAll(async () => {
      for (const name of queues) {
        const queue = new Queue(name, { connection });
        await queue.obliterate({ force: true });
        await queue.close();
      }
    });

    it('traces the request path, a gateway message, a listener, a timeout, a job and a GraphQL query', async () => {
      const { app, receiver, port, queue } = await boot(appDir());
      running = { app, receiver };
      await withOutput(app, async () => {
        const order = (await fetch(`http://127.0.0.1:${port}/orders/-7`).then((r) => r.json())) as { job: string };
        expect(order).toEqual({ id: 7, price: 70, job: expect.any(String) });
        const client = sender();
        const socket = io(`http://127.0.0.1:${port}`, { path: '/live', transports: ['websocket'], forceNew: true });
        const quote = { id: 3, _meta: client._meta };
        await expect(socket.timeout(5000).emitWithAck('quote', quote)).resolves.toEqual({ id: 3, price: 30 });
        socket.disconnect();
        expect(await graphql(port)).toEqual({ data: { orderById: { id: '7', status: 'open' } } });

        // the request path: middleware, guard, interceptor > pipe, handler > provider > listener, job
        const server = await span(receiver, 'GET /orders/:id');
        const interceptor = await span(receiver, 'TimingInterceptor.intercept');
        const handler = await span(receiver, 'OrdersController.find');
        const find = await span(receiver, 'OrdersService.find');
        const expected: Array<[string, string, string | undefined]> = [
          ['RequestIdMiddleware.use', server.spanId, 'middleware'],
          ['KeyGuard.canActivate', server.spanId, 'guard'],
          ['TimingInterceptor.intercept', server.spanId, 'interceptor'],
          ['PositiveIntPipe.transform', interceptor.spanId, 'pipe'],
          ['OrdersController.find', interceptor.spanId, 'handler'],
          ['OrdersService.find', handler.spanId, 'provider'],
          ['AuditListener.onViewed', find.spanId, 'listener'],
          [`send ${queue}`, find.spanId, undefined],
        ];
        for (const [name, parent, type] of expected) {
          const found = await span(receiver, name);
          expect([name, found.parentSpanId, found.traceId, found.attributes['nestjs.type']]).toEqual([
            name,
            parent,
            server.traceId,
            type,
          ]);
        }
        expect(receiver.byName('AuditListener.onViewed')[0]?.attributes['nestjs.event']).toBe('order.viewed');

        // BullMQ: the job carries the producer's context to the worker
        const send = await span(receiver, `send ${queue}`);
        const processed = await span(receiver, `process ${queue}`);
        expect([send.kind, send.attributes['messaging.message.id']]).toEqual(['PRODUCER', order.job]);
        expect([processed.kind, processed.parentSpanId, processed.traceId]).toEqual([
          'CONSUMER',
          send.spanId,
          server.traceId,
        ]);
        expect(processed.attributes['nestjs.type']).toBe('processor');

        // the gateway message continues the trace of its _meta; the handler and the provider beneath
        const message = await span(receiver, 'WS quote');
        const gatewayHandler = await span(receiver, 'LiveGateway.quote');
        expect([message.kind, message.traceId, message.parentSpanId]).toEqual([
          'SERVER',
          client.traceId,
          client.spanId,
        ]);
        expect(message.attributes).toMatchObject({
          'websocket.namespace': '/',
          'network.protocol.name': 'socket.io',
        });
        expect([gatewayHandler.parentSpanId, gatewayHandler.attributes['nestjs.type']]).toEqual([
          message.spanId,
          'handler',
        ]);
        const quoted = await waitFor(
          () => receiver.byName('PriceService.price').find((s) => s.parentSpanId === gatewayHandler.spanId),
          'the price span beneath the gateway handler',
        );
        expect(quoted.attributes['nestjs.type']).toBe('provider');

        // the @Timeout run is the root of a trace of its own
        const warm = await span(receiver, 'WarmUp.warm');
        expect([warm.parentSpanId, warm.attributes['nestjs.type'], warm.attributes['nestjs.schedule.type']]).toEqual([
          undefined,
          'scheduled',
          'timeout',
        ]);
        await waitFor(
          () => receiver.byName('PriceService.price').some((s) => s.parentSpanId === warm.spanId),
          'the price span beneath the timeout run',
        );

        // GraphQL through Apollo on Express: request > operation > resolver
        const operation = await span(receiver, 'query OrderById');
        const post = await span(receiver, 'POST /graphql query OrderById');
        const resolver = await span(receiver, 'OrdersResolver.orderById');
        expect(operation.parentSpanId).toBe(post.spanId);
        expect(operation.attributes).toMatchObject({ 'graphql.operation.type': 'query' });
        expect([resolver.parentSpanId, resolver.attributes['nestjs.type']]).toEqual([operation.spanId, 'resolver']);
        // providers: true leaves the packages' providers alone
        expect(receiver.spans.filter((s) => /ResolverDecoratorHost|EventEmitter|Queue/.test(s.name))).toEqual([]);
      });
    }, 60_000);

    it('traces a message through the ws adapter (@nestjs/platform-ws 11)', async () => {
      const { app, receiver, port } = await boot(appDir(), { WS_ADAPTER: 'ws' });
      running = { app, receiver };
      await withOutput(app, async () => {
        const client = sender();
        const socket = new WebSocket(`ws://127.0.0.1:${port}/live`);
        await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
        const reply = new Promise<unknown>((resolve) =>
          socket.once('message', (data: Buffer) => resolve(JSON.parse(String(data)))),
        );
        socket.send(JSON.stringify({ event: 'quote', data: { id: 4, _meta: client._meta } }));
        await expect(reply).resolves.toEqual({ id: 4, price: 40 });
        socket.close();
        const message = await span(receiver, 'WS quote');
        const handler = await span(receiver, 'LiveGateway.quote');
        expect([message.kind, message.traceId, message.parentSpanId]).toEqual([
          'SERVER',
          client.traceId,
          client.spanId,
        ]);
        expect(message.attributes).toMatchObject({ 'url.path': '/live', 'network.protocol.name': 'websocket' });
        expect(handler.parentSpanId).toBe(message.spanId);
      });
    }, 30_000);

    it('on a @nestjs/graphql without request hooks (13.4.3): says why once, answers, and traces no GraphQL', async () => {
      // npm refuses it beside the peer range, as it should; --legacy-peer-deps, pnpm or yarn let it through
      await npmInstall(appDir(), ['@nestjs/graphql@13.4.3', '@nestjs/apollo@13.4.3'], ['--legacy-peer-deps']);
      const { app, receiver, port } = await boot(appDir());
      running = { app, receiver };
      await withOutput(app, async () => {
        expect(await graphql(port)).toEqual({ data: { orderById: { id: '7', status: 'open' } } });
        // Apollo is no Nest route: without the operation, the request span keeps the bare method
        const post = await waitFor(
          () => receiver.spans.find((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/graphql'),
          'the request span',
        );
        expect(post.name).toBe('POST');
        await span(receiver, 'WarmUp.warm'); // the other entry points go on
        expect(app.out().match(/GraphQL operations and resolvers get no span/g)).toHaveLength(1);
        // no operation and no resolver span (with providers: true, the resolver's method is one more provider's)
        const graphqlSpans = receiver.spans.filter(
          (s) => /^query|ResolverDecoratorHost/.test(s.name) || s.attributes['nestjs.type'] === 'resolver',
        );
        expect(graphqlSpans).toEqual([]);
        expect(jsonLines(app.out()).filter((line) => 'error' in line)).toEqual([]);
      });
    }, 90_000);
  });
}
