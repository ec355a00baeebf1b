import 'reflect-metadata';
import { Controller, Get, Inject, type INestApplication, type INestMicroservice } from '@nestjs/common';
import {
  ClientProxyFactory,
  ClientsModule,
  Ctx,
  MessagePattern,
  NatsRecordBuilder,
  Transport,
  type ClientOptions,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { SpanKind } from '@opentelemetry/api';
import { firstValueFrom } from 'rxjs';
import request from 'supertest';
import { type PropagatorName } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { BROKERS, describeWithBroker } from '../../support/brokers.js';
import { carrierOf, RUN } from '../../support/microservices-harness.js';
import { listen } from '../../support/platforms.js';
import { freePort } from '../../support/ports.js';
import {
  CALLER,
  FIELDS,
  INCOMING,
  MALFORMED,
  TRACE_FORMATS,
  type Headers,
  type TraceFormat,
} from '../../support/propagation-formats.js';

/*
 * Each format across a message transport: the neighbour calls the gateway over HTTP in that
 * format, the gateway sends a message (TCP: the packet envelope; NATS: message headers) in
 * that format, the worker continues the trace. A message in a malformed format from a client
 * that is not traced is handled as a fresh trace.
 */
const PATTERN = `${RUN}.propagation.echo`;
const CLIENT = 'MATRIX_CLIENT';

@Controller()
class EchoWorker {
  @MessagePattern(PATTERN)
  echo(@Ctx() ctx: unknown) {
    return Object.keys(carrierOf(ctx) ?? {}).map((k) => k.toLowerCase());
  }
}

@Controller('send')
class SendGateway {
  constructor(@Inject(CLIENT) private readonly client: ClientProxy) {}
  @Get()
  send() {
    return this.client.send(PATTERN, {});
  }
}

interface MessageTransport {
  name: string;
  server(): Promise<MicroserviceOptions>;
  client(server: MicroserviceOptions): ClientOptions;
  /** A client with no tracing, sending a message that carries `headers` as its transport would. */
  sendPlain(client: ClientProxy, headers: Headers): Promise<unknown>;
}

const tcp: MessageTransport = {
  name: 'TCP',
  server: async () => ({ transport: Transport.TCP, options: { host: '127.0.0.1', port: await freePort() } }),
  client: (server) => server as ClientOptions,
  sendPlain: (client, headers) => {
    client.setOnDispatchHook((packet) => Object.assign(packet, { metadata: headers }));
    return firstValueFrom(client.send(PATTERN, {}));
  },
};

const natsServers = [`nats://${BROKERS.nats.host}:${BROKERS.nats.port}`];
const nats: MessageTransport = {
  name: 'NATS',
  server: () => Promise.resolve({ transport: Transport.NATS, options: { servers: natsServers } }),
  client: (server) => server as ClientOptions,
  sendPlain: async (client, headers) => {
    const { headers: natsHeaders } = await import('@nats-io/transport-node');
    const record = new NatsRecordBuilder({}).setHeaders(natsHeaders()).build();
    for (const [key, value] of Object.entries(headers)) record.headers!.set(key, value);
    return firstValueFrom(client.send(PATTERN, record));
  },
};

function defineMatrix(transport: MessageTransport): void {
  describe.each(TRACE_FORMATS)('%s', (format: TraceFormat) => {
    let worker: INestMicroservice;
    let gateway: INestApplication;
    let plain: ClientProxy;
    const propagators: PropagatorName[] = [format];

    beforeAll(async () => {
      const serverOptions = await transport.server();
      const workerRef = await Test.createTestingModule({
        imports: [TracingTestingModule.forRoot({ serviceName: 'worker', autoTrace: false, propagators })],
        controllers: [EchoWorker],
      }).compile();
      worker = workerRef.createNestMicroservice<MicroserviceOptions>({ ...serverOptions, logger: false });
      await worker.listen();
      const gatewayRef = await Test.createTestingModule({
        imports: [
          TracingTestingModule.forRoot({ serviceName: 'gateway', autoTrace: false, propagators }),
          ClientsModule.register([{ name: CLIENT, ...transport.client(serverOptions) }] as never),
        ],
        controllers: [SendGateway],
      }).compile();
      gateway = await listen(gatewayRef, 'express');
      plain = ClientProxyFactory.create(transport.client(serverOptions));
    });
    afterAll(async () => {
      await plain.close();
      await gateway.close();
      await worker.close();
    });

    it('is continued from the HTTP caller, through the message, into the handler; only its fields travel', async () => {
      const workerSpans = worker.get(SpanRecorder);
      workerSpans.reset();
      const res = await request(gateway.getHttpServer()).get('/send').set(INCOMING[format]);
      expect(res.status).toBe(200);
      const client = gateway
        .get(SpanRecorder)
        .spans()
        .find((s) => s.kind === SpanKind.CLIENT)!;
      const handled = workerSpans.find(`process ${PATTERN}`);
      expect(client.spanContext().traceId).toBe(CALLER.traceId);
      expect(handled.spanContext().traceId).toBe(CALLER.traceId);
      expect(handled.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
      const carried = res.body as string[];
      expect(carried).toEqual(expect.arrayContaining(FIELDS[format]));
      const others = TRACE_FORMATS.filter((f) => f !== format).flatMap((f) => FIELDS[f]);
      expect(carried.filter((key) => others.includes(key))).toEqual([]);
    });

    it('handles a message whose context is malformed as a fresh trace', async () => {
      const workerSpans = worker.get(SpanRecorder);
      workerSpans.reset();
      await transport.sendPlain(plain, MALFORMED[format]);
      const handled = workerSpans.find(`process ${PATTERN}`);
      expect(handled.parentSpanContext).toBeUndefined();
      expect(handled.spanContext().traceId).not.toBe(CALLER.traceId);
    });

    it('continues a message from a client that is not this library, in any letter case', async () => {
      const workerSpans = worker.get(SpanRecorder);
      workerSpans.reset();
      await transport.sendPlain(plain, INCOMING[format]);
      expect(workerSpans.find(`process ${PATTERN}`).parentSpanContext).toMatchObject(CALLER);
    });
  });
}

describe('propagation over Nest TCP (packet envelope)', () => defineMatrix(tcp));

await describeWithBroker(BROKERS.nats, 'propagation over NATS (message headers)', () => defineMatrix(nats));
