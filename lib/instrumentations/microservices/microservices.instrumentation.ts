import type { DiscoveryService, ModulesContainer } from '@nestjs/core';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import type { Instrumentation } from '../instrumentation.js';
import { instrumentClient } from './client-spans.js';
import { instrumentGrpcClient, instrumentGrpcServer } from './grpc.js';
import { mqttClient, mqttServer } from './mqtt.js';
import { natsClient, natsServer } from './nats.js';
import { redisClient, redisServer } from './redis.js';
import { rmqClient, rmqServer } from './rmq.js';
import { instrumentPatternServer } from './server-spans.js';
import { tcpClient, tcpServer } from './tcp.js';
import type { ClientProxyLike, ClientTransport, ServerLike, ServerTransport } from './types.js';

/*
 * @nestjs/microservices is an optional peer: nothing here imports it. Clients and servers
 * are recognised by the name of their class or of a class they extend (ClientTCP,
 * ServerRedis, ...), so a subclass of a Nest transport is traced like the transport.
 * Kafka and custom transports are left alone.
 */
const CLIENTS: Record<string, ClientTransport | 'grpc'> = {
  ClientTCP: tcpClient,
  ClientRedis: redisClient,
  ClientNats: natsClient,
  ClientRMQ: rmqClient,
  ClientMqtt: mqttClient,
  ClientGrpcProxy: 'grpc',
};
const SERVERS: Record<string, ServerTransport | 'grpc'> = {
  ServerTCP: tcpServer,
  ServerRedis: redisServer,
  ServerNats: natsServer,
  ServerRMQ: rmqServer,
  ServerMqtt: mqttServer,
  ServerGrpc: 'grpc',
};

export const microservicesInstrumentation: Instrumentation = {
  name: 'microservices',
  isEnabled: () => true,
  enable: ({ discovery, modules, runtime }) => instrumentMicroservices(discovery, modules, runtime),
};

/**
 * Traces the app's microservice clients and servers; called once, when the app's modules
 * initialise. Clients: ClientsModule providers, @Client() properties and clients kept in a
 * property of a provider or controller. Servers: every server the app hosts
 * (NestFactory.createMicroservice, app.connectMicroservice), including ones connected later.
 * Each client and server is changed on its own instance, never on a shared prototype.
 */
function instrumentMicroservices(
  discovery: DiscoveryService,
  modules: ModulesContainer,
  runtime: TracingRuntime,
): (() => void) | undefined {
  try {
    for (const client of findClients(discovery)) {
      try {
        const transport = transportOf(client, CLIENTS);
        if (transport === 'grpc') instrumentGrpcClient(client);
        else if (transport) instrumentClient(client as ClientProxyLike, transport);
      } catch (error) {
        runtime.report('instrumenting a microservice client', error);
      }
    }
    const subscription = rpcTargets(modules)?.subscribe((server: unknown) => {
      try {
        const transport = transportOf(server, SERVERS);
        if (transport === 'grpc') instrumentGrpcServer(server as object, runtime);
        else if (transport) instrumentPatternServer(server as ServerLike, transport, runtime);
      } catch (error) {
        runtime.report('instrumenting a microservice server', error);
      }
    });
    return subscription && (() => subscription.unsubscribe());
  } catch (error) {
    runtime.report('instrumenting microservices', error);
    return undefined;
  }
}

function findClients(discovery: DiscoveryService): Set<object> {
  const found = new Set<object>();
  for (const wrapper of [...discovery.getProviders(), ...discovery.getControllers()]) {
    const instance: unknown = wrapper.instance;
    if (typeof instance !== 'object' || instance === null) continue;
    try {
      if (looksLikeClient(instance)) found.add(instance);
      // @Client() properties and clients made with ClientProxyFactory in a constructor;
      // only plain data properties are read, so no getter of the app runs.
      for (const descriptor of Object.values(Object.getOwnPropertyDescriptors(instance))) {
        if ('value' in descriptor && looksLikeClient(descriptor.value)) found.add(descriptor.value);
      }
    } catch {
      // an exotic provider (a Proxy refusing introspection) is not a client
    }
  }
  return found;
}

function looksLikeClient(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { send?: unknown; emit?: unknown; getService?: unknown };
  return typeof v.send === 'function' && (typeof v.emit === 'function' || typeof v.getService === 'function');
}

function transportOf<T>(instance: unknown, table: Record<string, T>): T | undefined {
  if (typeof instance !== 'object' || instance === null) return undefined;
  for (
    let proto: unknown = Object.getPrototypeOf(instance);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && Object.hasOwn(table, name)) return table[name];
  }
  return undefined;
}

interface RpcTargetRegistry {
  subscribe(next: (target: unknown) => void): { unsubscribe(): void };
}

/** ModulesContainer#getRpcTargetRegistry(): a replaying stream of the servers the app hosts. */
function rpcTargets(modules: ModulesContainer): RpcTargetRegistry | undefined {
  const container = modules as unknown as { getRpcTargetRegistry?: () => RpcTargetRegistry };
  return typeof container.getRpcTargetRegistry === 'function' ? container.getRpcTargetRegistry() : undefined;
}
