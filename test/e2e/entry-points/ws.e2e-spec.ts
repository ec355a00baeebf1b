import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { WebSocket } from 'ws';
import type { TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { baseUrl, PLATFORMS } from '../../support/platforms.js';
import { waitFor } from '../../support/wait-for.js';
import { DenyGuard, RawGateway, traceparent } from './ws-gateways.js';

async function boot(platform: (typeof PLATFORMS)[number], options: TracingModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'raw', ...options })],
    providers: [RawGateway, DenyGuard],
  }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    logger: false,
  });
  app.useWebSocketAdapter(new WsAdapter(app));
  await app.listen(0, '127.0.0.1');
  return { app, recorder: app.get(SpanRecorder), gateway: app.get(RawGateway) };
}

interface Client {
  socket: WebSocket;
  received: unknown[];
}

async function connect(app: INestApplication, headers: Record<string, string> = {}): Promise<Client> {
  const socket = new WebSocket(`${baseUrl(app).replace('http', 'ws')}/ws`, { headers });
  const received: unknown[] = [];
  socket.on('message', (data: Buffer) => received.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, received };
}

const send = (client: Client, event: string, data?: unknown) => client.socket.send(JSON.stringify({ event, data }));

describe.each(PLATFORMS)('ws gateway spans (%s)', (platform) => {
  let app: INestApplication;
  let recorder: SpanRecorder;
  let gateway: RawGateway;
  const clients: Client[] = [];

  afterEach(async () => {
    for (const { socket } of clients.splice(0)) socket.close();
    await app?.close();
  });

  it('makes a SERVER span per message with the path, continuing _meta, linked to the upgrade request', async () => {
    ({ app, recorder } = await boot(platform));
    const handshake = traceparent();
    const client = await connect(app, { traceparent: handshake.header });
    clients.push(client);
    const sender = traceparent();
    const payload = { text: 'hi', _meta: { traceparent: sender.header } };
    send(client, 'echo', payload);
    send(client, 'shout', { text: 'hey' });
    await waitFor(() => client.received.length === 2, 'two answers');
    expect(client.received).toEqual(expect.arrayContaining([payload, { event: 'shouted', data: 'HEY' }]));

    const message = await waitFor(() => recorder.findAll('WS echo')[0], 'the message span');
    expect(message.kind).toBe(SpanKind.SERVER);
    expect(message.parentSpanContext?.spanId).toBe(sender.spanId);
    expect(message.links.map((l) => l.context.spanId)).toEqual([handshake.spanId]);
    expect(message.attributes).toMatchObject({
      'websocket.event.name': 'echo',
      'url.path': '/ws',
      'network.protocol.name': 'websocket',
    });
    expect(typeof message.attributes['websocket.client.id']).toBe('string');
    expect(recorder.find('RawGateway.echo').parentSpanContext?.spanId).toBe(message.spanContext().spanId);
    const connectSpan = recorder.find('WS connect');
    expect(connectSpan.parentSpanContext?.spanId).toBe(handshake.spanId);
  });

  it('records errors as the socket.io adapter does, and traces the close', async () => {
    ({ app, recorder, gateway } = await boot(platform));
    const client = await connect(app);
    send(client, 'secret');
    send(client, 'explode');
    await waitFor(() => client.received.length === 2, 'two exception messages');
    expect(client.received).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          event: 'exception',
          data: expect.objectContaining({ message: 'Forbidden resource' }),
        }),
      ]),
    );
    await waitFor(() => recorder.findAll('WS explode').length === 1, 'the failed message span');
    expect(recorder.find('WS secret').status.code).toBe(SpanStatusCode.UNSET);
    expect(recorder.find('WS explode').status.code).toBe(SpanStatusCode.ERROR);
    client.socket.close(4000);
    await waitFor(() => recorder.findAll('RawGateway.handleDisconnect').length === 1, 'the close span');
    expect(gateway.disconnected).toHaveLength(1);
    expect(recorder.find('WS disconnect').attributes['websocket.close.code']).toBe(4000);
  });

  it('adds nothing with autoTrace.gateways: false', async () => {
    ({ app, recorder } = await boot(platform, { autoTrace: { gateways: false } }));
    const client = await connect(app);
    clients.push(client);
    send(client, 'echo', { a: 1 });
    await waitFor(() => client.received.length === 1, 'the answer');
    expect(client.received).toEqual([{ a: 1 }]);
    expect(recorder.spans().filter((s) => s.name.startsWith('WS') || s.name.startsWith('RawGateway'))).toEqual([]);
  });
});
