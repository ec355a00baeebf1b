import { extractParent } from './carriers.js';
import { addressAttributes, MESSAGING_DESTINATION_NAME } from './semconv.js';
import { metadataOf } from './tcp.js';
import type { ClientTransport, ServerTransport } from './types.js';

/**
 * Redis pub/sub has no message headers: like TCP, the context rides in the packet
 * envelope's `metadata`, exposed to handlers as `RedisContext#getMetadata()`.
 */
const SYSTEM = 'redis';

export const redisClient: ClientTransport = {
  system: SYSTEM,
  staticAttributes: (client) => {
    const { host, port } = client.options ?? {};
    return addressAttributes(
      `${typeof host === 'string' ? host : 'localhost'}:${typeof port === 'number' ? port : 6379}`,
    );
  },
  usesEnvelope: () => true,
};

export const redisServer: ServerTransport = {
  system: SYSTEM,
  staticAttributes: () => ({}),
  parent: (rpcContext, propagator) => extractParent(propagator, metadataOf(rpcContext)),
  attributes: (_server, rpcContext) => {
    const channel = (rpcContext as { getChannel?: () => unknown } | undefined)?.getChannel?.();
    return typeof channel === 'string' ? { [MESSAGING_DESTINATION_NAME]: channel } : {};
  },
};
