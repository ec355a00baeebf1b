import { extractParent, isObject, outgoingHeaders } from './carriers.js';
import { addressAttributes, MESSAGING_DESTINATION_NAME, MESSAGING_RABBITMQ_ROUTING_KEY } from './semconv.js';
import type { ClientProxyLike, ClientTransport, ServerLike, ServerTransport } from './types.js';

/**
 * RabbitMQ: the context rides in the AMQP message headers (`properties.headers`), added
 * where ClientRMQ merges its headers; the server reads them from the consumed message.
 * The Nest pattern travels in the body, so messaging.destination.name is the queue (or the
 * exchange, when the client publishes to one) and the pattern names the span.
 */
const SYSTEM = 'rabbitmq';

type MergeHeaders = (requestHeaders?: Record<string, unknown>) => Record<string, unknown> | undefined;

interface RmqClientLike extends ClientProxyLike {
  queue?: unknown;
  mergeHeaders?: MergeHeaders;
}

function publishesToExchange(client: RmqClientLike): boolean {
  return Boolean(client.options?.wildcards) || client.options?.exchangeType === 'fanout';
}

export const rmqClient: ClientTransport = {
  system: SYSTEM,
  staticAttributes: (client) => {
    const urls: unknown = client.options?.urls;
    const first: unknown = Array.isArray(urls) ? urls[0] : urls;
    return addressAttributes(
      typeof first === 'string' ? first : isObject(first) ? amqpUrl(first) : 'amqp://localhost',
      5672,
    );
  },
  destination: (client, pattern) => {
    const rmq = client as RmqClientLike;
    const queue = typeof rmq.queue === 'string' ? rmq.queue : pattern;
    if (!publishesToExchange(rmq)) return queue;
    const exchange = rmq.options?.exchange;
    return typeof exchange === 'string' ? exchange : queue;
  },
  usesEnvelope: () => false,
  installHeaders: (client) => {
    const target = client as RmqClientLike;
    const merge = target.mergeHeaders;
    if (typeof merge !== 'function') return;
    // Runs synchronously inside publish()/dispatchEvent(), in the span's context.
    target.mergeHeaders = function mergeHeadersWithTraceContext(
      this: unknown,
      requestHeaders?: Record<string, unknown>,
    ) {
      const merged = merge.call(this, requestHeaders);
      const outgoing = outgoingHeaders();
      return outgoing ? { ...merged, ...outgoing } : merged;
    };
  },
};

interface AmqpMessage {
  properties?: { headers?: unknown };
  fields?: { routingKey?: unknown };
}

export const rmqServer: ServerTransport = {
  system: SYSTEM,
  staticAttributes: (server) => {
    const queue = (server as ServerLike & { queue?: unknown }).queue;
    return typeof queue === 'string' ? { [MESSAGING_DESTINATION_NAME]: queue } : {};
  },
  parent: (rpcContext, propagator) => {
    const headers = messageOf(rpcContext)?.properties?.headers;
    return extractParent(propagator, isObject(headers) ? headers : undefined);
  },
  attributes: (_server, rpcContext) => {
    const routingKey = messageOf(rpcContext)?.fields?.routingKey;
    return typeof routingKey === 'string' ? { [MESSAGING_RABBITMQ_ROUTING_KEY]: routingKey } : {};
  },
};

function messageOf(rpcContext: unknown): AmqpMessage | undefined {
  const message = (rpcContext as { getMessage?: () => unknown } | undefined)?.getMessage?.();
  return isObject(message) ? message : undefined;
}

function amqpUrl(options: Record<string, unknown>): string {
  const host = typeof options.hostname === 'string' ? options.hostname : 'localhost';
  return typeof options.port === 'number' ? `amqp://${host}:${options.port}` : `amqp://${host}`;
}
