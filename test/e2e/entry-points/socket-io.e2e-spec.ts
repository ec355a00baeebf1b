import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { io, type Socket } from 'socket.io-client';
import type { TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { baseUrl, listen, PLATFORMS } from '../../support/platforms.js';
import { waitFor } from '../../support/wait-for.js';
import { ChatGateway, DenyGuard, QuietGateway, traceparent } from './ws-gateways.js';

async function boot(
  platform: (typeof PLATFORMS)[number],
  options: TracingModuleOptions = {},
  gateways: Array<typeof ChatGateway | typeof QuietGateway> = [ChatGateway],
) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'chat', ...options })],
    providers: [...gateways, DenyGuard],
  }).compile();
  const app = await listen(moduleRef, platform);
  const gateway = gateways.includes(ChatGateway) ? app.get(ChatGateway) : (undefined as unknown as ChatGateway);
  return { app, recorder: app.get(SpanRecorder), gateway };
}

function connect(app: INestApplication, headers: Record<string, string> = {}, namespace = 'chat'): Promise<Socket> {
  const socket = io(`${baseUrl(app)}/${namespace}`, {
    transports: ['websocket'],
    extraHeaders: headers,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe.each(PLATFORMS)('socket.io gateway spans (%s)', (platform) => {
  let app: INestApplication;
  let recorder: SpanRecorder;
  let gateway: ChatGateway;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await app?.close();
  });

  it('makes a SERVER span per message, continuing _meta, linked to the handshake, handler beneath; the ack unchanged', async () => {
    ({ app, recorder } = await boot(platform));
    const handshake = traceparent();
    const socket = await connect(app, { traceparent: handshake.header });
    sockets.push(socket);
    const sender = traceparent();
    const payload = { text: 'hi', _meta: { traceparent: sender.header } };
    await expect(socket.emitWithAck('echo', payload)).resolves.toEqual(payload);

    const message = await waitFor(() => recorder.findAll('WS echo')[0], 'the message span');
    expect(message.kind).toBe(SpanKind.SERVER);
    expect(message.spanContext().traceId).toBe(sender.traceId);
    expect(message.parentSpanContext?.spanId).toBe(sender.spanId);
    expect(message.links.map((l) => l.context.spanId)).toEqual([handshake.spanId]);
    expect(message.attributes).toMatchObject({
      'websocket.event.name': 'echo',
      'websocket.namespace': '/chat',
      'websocket.client.id': socket.id,
      'network.protocol.name': 'socket.io',
    });
    const handler = recorder.find('ChatGateway.echo');
    expect(handler.parentSpanContext?.spanId).toBe(message.spanContext().spanId);
    expect(handler.attributes).toMatchObject({ 'nestjs.type': 'handler', 'nestjs.gateway': 'ChatGateway' });
    // the inherited handler is shadowed on the gateway by a wrapper that keeps its metadata
    expect(Object.hasOwn(ChatGateway.prototype, 'echo')).toBe(true);
    expect(Reflect.getMetadata('message', ChatGateway.prototype.echo)).toBe('echo');
    expect(ChatGateway.prototype.echo.name).toBe('echo');
  });

  it('starts a fresh trace for a message without _meta, answers { event, data } and streams Observables', async () => {
    ({ app, recorder } = await boot(platform));
    const socket = await connect(app);
    sockets.push(socket);
    const shouted = new Promise((resolve) => socket.once('shouted', resolve));
    socket.emit('shout', { text: 'hey' });
    await expect(shouted).resolves.toBe('HEY');
    const ticks: unknown[] = [];
    socket.on('tick', (n) => ticks.push(n));
    socket.emit('ticks');
    await waitFor(() => ticks.length === 3, 'three ticks');
    expect(ticks).toEqual([1, 2, 3]);
    const shout = await waitFor(() => recorder.findAll('WS shout')[0], 'the shout span');
    expect(shout.parentSpanContext).toBeUndefined();
    expect(shout.links).toEqual([]);
    await waitFor(() => recorder.findAll('WS ticks').length === 1, 'the stream span');
  });

  it('records a guard refusal and a WsException as answers, another error as a failure; the client gets the same exception', async () => {
    ({ app, recorder } = await boot(platform));
    const socket = await connect(app);
    sockets.push(socket);
    const exceptions: unknown[] = [];
    socket.on('exception', (e) => exceptions.push(e));
    for (const event of ['secret', 'invalid', 'explode']) socket.emit(event, { x: 1 });
    await waitFor(() => exceptions.length === 3, 'three exception messages');
    expect(exceptions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ status: 'error', message: 'Forbidden resource' }),
        expect.objectContaining({ status: 'error', message: 'bad input' }),
        expect.objectContaining({ status: 'error', message: 'Internal server error' }),
      ]),
    );
    const secret = await waitFor(() => recorder.findAll('WS secret')[0], 'the refused message span');
    expect(secret.events.map((e) => e.name)).toEqual(['exception']);
    expect(secret.status.code).toBe(SpanStatusCode.UNSET);
    expect(recorder.findAll('ChatGateway.secret')).toEqual([]);
    const invalid = recorder.find('WS invalid');
    expect(invalid.status.code).toBe(SpanStatusCode.UNSET);
    expect(invalid.events[0]?.attributes?.['exception.message']).toBe('bad input');
    const explode = recorder.find('WS explode');
    expect(explode.status.code).toBe(SpanStatusCode.ERROR);
    expect(explode.attributes['error.type']).toBe('Error');
    expect(recorder.find('ChatGateway.explode').status.code).toBe(SpanStatusCode.ERROR);
  });

  it('traces handleConnection and handleDisconnect beneath WS connect / WS disconnect', async () => {
    ({ app, recorder, gateway } = await boot(platform));
    const handshake = traceparent();
    const socket = await connect(app, { traceparent: handshake.header });
    await waitFor(() => gateway.connected.length === 1, 'the connection hook');
    socket.disconnect();
    await waitFor(() => recorder.findAll('ChatGateway.handleDisconnect').length === 1, 'the disconnection span');
    const connectSpan = recorder.find('WS connect');
    expect(connectSpan.spanContext().traceId).toBe(handshake.traceId);
    expect(connectSpan.parentSpanContext?.spanId).toBe(handshake.spanId);
    expect(recorder.find('ChatGateway.handleConnection').parentSpanContext?.spanId).toBe(
      connectSpan.spanContext().spanId,
    );
    const disconnect = recorder.find('WS disconnect');
    expect(disconnect.parentSpanContext).toBeUndefined();
    expect(disconnect.links.map((l) => l.context.spanId)).toEqual([handshake.spanId]);
    expect(disconnect.attributes['websocket.close.reason']).toBe('client namespace disconnect');
    expect(recorder.find('ChatGateway.handleDisconnect').parentSpanContext?.spanId).toBe(
      disconnect.spanContext().spanId,
    );
  });

  it('makes no connection spans for gateways without connection hooks', async () => {
    ({ app, recorder } = await boot(platform, {}, [QuietGateway]));
    const socket = await connect(app, {}, 'quiet');
    await expect(socket.emitWithAck('ping')).resolves.toBe('pong');
    socket.disconnect();
    await waitFor(() => recorder.findAll('QuietGateway.ping').length === 1, 'the handler span');
    expect(
      recorder
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['QuietGateway.ping', 'WS ping']);
  });

  it('keeps concurrent messages of several clients in their own traces', async () => {
    ({ app, recorder } = await boot(platform));
    const clients = await Promise.all([connect(app), connect(app)]);
    sockets.push(...clients);
    const sent = clients.flatMap((socket) =>
      Array.from({ length: 10 }, (_, n) => ({ socket, n, parent: traceparent() })),
    );
    const answers = await Promise.all(
      sent.map(({ socket, n, parent }) => socket.emitWithAck('slow', { n, _meta: { traceparent: parent.header } })),
    );
    expect(answers).toEqual(sent.map(({ n }) => n * 2));
    await waitFor(() => recorder.findAll('WS slow').length === sent.length, 'every message span');
    const handlers = recorder.findAll('ChatGateway.slow');
    for (const { socket, parent } of sent) {
      const message = recorder.findAll('WS slow').find((s) => s.spanContext().traceId === parent.traceId);
      expect(message?.parentSpanContext?.spanId).toBe(parent.spanId);
      expect(message?.attributes['websocket.client.id']).toBe(socket.id);
      const handler = handlers.find((s) => s.spanContext().traceId === parent.traceId);
      expect(handler?.parentSpanContext?.spanId).toBe(message?.spanContext().spanId);
    }
  });

  it('keeps the handler metadata, and adds nothing with autoTrace.gateways: false', async () => {
    ({ app, recorder } = await boot(platform, { autoTrace: { gateways: false } }));
    const socket = await connect(app);
    sockets.push(socket);
    await expect(socket.emitWithAck('echo', { a: 1 })).resolves.toEqual({ a: 1 });
    expect(Reflect.getMetadata('message', ChatGateway.prototype.echo)).toBe('echo');
    expect(recorder.spans().filter((s) => s.name.startsWith('WS') || s.name.startsWith('ChatGateway'))).toEqual([]);
  });
});
