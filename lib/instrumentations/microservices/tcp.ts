import { extractParent, isObject } from './carriers.js';
import { addressAttributes, MESSAGING_DESTINATION_NAME } from './semconv.js';
import type { ClientProxyLike, ClientTransport, ServerTransport } from './types.js';

/**
 * TCP: Nest's JSON-over-TCP protocol has no headers. The context rides in the packet
 * envelope's `metadata` (`{ pattern, data, id, metadata }`), which the TCP server hands
 * to handlers as `TcpContext#getMetadata()`.
 */
const SYSTEM = 'nestjs_tcp';

export const tcpClient: ClientTransport = {
  system: SYSTEM,
  staticAttributes: (client) => {
    const { host, port } = client as ClientProxyLike & { host?: unknown; port?: unknown };
    return typeof host === 'string' && typeof port === 'number' ? addressAttributes(`${host}:${port}`) : {};
  },
  usesEnvelope: () => true,
};

export const tcpServer: ServerTransport = {
  system: SYSTEM,
  staticAttributes: () => ({}),
  parent: (rpcContext, propagator) => extractParent(propagator, metadataOf(rpcContext)),
  attributes: (_server, rpcContext) => {
    const pattern = (rpcContext as { getPattern?: () => unknown } | undefined)?.getPattern?.();
    return typeof pattern === 'string' ? { [MESSAGING_DESTINATION_NAME]: pattern } : {};
  },
};

/** `getMetadata()` of a TcpContext or RedisContext: the envelope's metadata, if the sender put any. */
export function metadataOf(rpcContext: unknown): Record<string, unknown> | undefined {
  const metadata = (rpcContext as { getMetadata?: () => unknown } | undefined)?.getMetadata?.();
  return isObject(metadata) ? metadata : undefined;
}
