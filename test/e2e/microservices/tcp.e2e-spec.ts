import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Controller, type INestApplication, type INestMicroservice } from '@nestjs/common';
import {
  ClientsModule,
  Ctx,
  MessagePattern,
  Payload,
  Transport,
  type ClientOptions,
  type ClientProxy,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { SpanKind } from '@opentelemetry/api';
import type { AddressInfo, Server } from 'node:net';
import { lastValueFrom } from 'rxjs';
import { TracingTestingModule } from 'nestjs-tracing/testing';
import { parentId, spanId, traceId } from '../../support/memory-tracing.js';
import {
  carrierOf,
  defineTransportTests,
  freshSpans,
  named,
  only,
  waitForSpans,
} from '../../support/microservices-harness.js';

const portOf = (worker: INestMicroservice): number => (worker.unwrap<Server>().address() as AddressInfo).port;
const tcpClient = (worker: INestMicroservice): ClientOptions => ({
  transport: Transport.TCP,
  options: { host: '127.0.0.1', port: portOf(worker) },
});

describe('microservices over TCP', () => {
  defineTransportTests({
    system: 'nestjs_tcp',
    serverOptions: () => ({ transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 } }),
    clientOptions: tcpClient,
    destination: (pattern) => pattern,
    carrierVisible: true,
    carrierName: 'packet envelope (ctx.getMetadata())',
  });
});

@Controller()
class Calculator {
  @MessagePattern({ cmd: 'sum' })
  sum(@Payload() numbers: number[], @Ctx() ctx: unknown) {
    return { sum: numbers.reduce((a, b) => a + b, 0), metadata: carrierOf(ctx) ?? null };
  }
}

describe('TCP envelope details', () => {
  let worker: INestMicroservice;
  let app: INestApplication;
  let client: ClientProxy;

  beforeAll(async () => {
    const workerModule = await Test.createTestingModule({
      imports: [TracingTestingModule.forRoot({ serviceName: 'calculator', autoTrace: false })],
      controllers: [Calculator],
    }).compile();
    worker = workerModule.createNestMicroservice({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: 0 },
      logger: false,
    });
    await worker.listen();
    const clientModule = await Test.createTestingModule({
      imports: [
        TracingTestingModule.forRoot({ serviceName: 'caller', autoTrace: false }),
        ClientsModule.register([
          { name: 'CALC', transport: Transport.TCP, options: { host: '127.0.0.1', port: portOf(worker) } },
        ]),
      ],
    }).compile();
    app = clientModule.createNestApplication({ logger: false });
    await app.init();
    client = app.get('CALC');
  });
  afterAll(async () => {
    await app?.close();
    await worker?.close();
  });

  it("keeps an app's own dispatch hook, set after the module initialised, working beside the trace context", async () => {
    const hook = jest.fn((packet: { metadata?: Record<string, unknown> }) => {
      packet.metadata = { ...packet.metadata, tenant: 'acme' };
    });
    client.setOnDispatchHook(hook);
    const reply = await lastValueFrom(
      client.send<{ sum: number; metadata: Record<string, string> }>({ cmd: 'sum' }, [1, 2, 3]),
    );
    expect(hook).toHaveBeenCalledTimes(1);
    expect(reply.sum).toBe(6);
    expect(reply.metadata.tenant).toBe('acme');
    const sent = only(await waitForSpans(app, named('send {"cmd":"sum"}')), 'send {"cmd":"sum"}');
    expect(reply.metadata.traceparent).toBe(`00-${traceId(sent)}-${spanId(sent)}-01`);
  });

  beforeEach(() => {
    freshSpans(app);
    freshSpans(worker);
  });

  it('names spans of an object pattern by its normalised form on both sides', async () => {
    await lastValueFrom(client.send({ cmd: 'sum' }, [4, 5]));
    const sent = only(await waitForSpans(app, named('send {"cmd":"sum"}')), 'send {"cmd":"sum"}');
    expect(sent.kind).toBe(SpanKind.CLIENT);
    expect(sent.attributes['messaging.destination.name']).toBe('{"cmd":"sum"}');
    const processed = only(await waitForSpans(worker, named('process {"cmd":"sum"}')), 'process {"cmd":"sum"}');
    expect(parentId(processed)).toBe(spanId(sent));
    expect(processed.attributes['messaging.destination.name']).toBe('{"cmd":"sum"}');
  });
});
