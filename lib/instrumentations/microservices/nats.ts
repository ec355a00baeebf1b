import type { TextMapGetter } from '@opentelemetry/api';
import { extractParent, outgoingHeaders } from './carriers.js';
import { loadPeer } from './peer.js';
import { addressAttributes, MESSAGING_DESTINATION_NAME } from './semconv.js';
import type { ClientProxyLike, ClientTransport, ServerTransport } from './types.js';

/**
 * NATS: the context rides in NATS message headers (NATS 2.2+), added where ClientNats
 * merges its headers; the server reads them from `NatsContext#getHeaders()`.
 */
const SYSTEM = 'nats';
const IGNORE_CASE = 2;

interface NatsHeaders {
  /** `match` 2 is nats.js's Match.IgnoreCase. */
  get(key: string, match?: number): string;
  set(key: string, value: string): void;
  keys(): string[];
}
type MergeHeaders = (requestHeaders?: NatsHeaders) => NatsHeaders | undefined;

export const natsClient: ClientTransport = {
  system: SYSTEM,
  staticAttributes: (client) => {
    const servers = client.options?.servers;
    return addressAttributes(Array.isArray(servers) ? servers[0] : (servers ?? 'nats://localhost:4222'), 4222);
  },
  usesEnvelope: () => false,
  installHeaders: (client) => {
    const target = client as ClientProxyLike & { mergeHeaders?: MergeHeaders };
    const merge = target.mergeHeaders;
    const createHeaders = loadPeer<{ headers?: () => NatsHeaders }>('@nats-io/transport-node')?.headers;
    if (typeof merge !== 'function' || typeof createHeaders !== 'function') return;
    // Runs synchronously inside publish()/dispatchEvent(), in the span's context.
    target.mergeHeaders = function mergeHeadersWithTraceContext(this: unknown, requestHeaders?: NatsHeaders) {
      const merged = merge.call(this, requestHeaders);
      const outgoing = outgoingHeaders();
      if (!outgoing) return merged;
      const headers = merged ?? createHeaders();
      for (const key of Object.keys(outgoing)) headers.set(key, outgoing[key]!);
      return headers;
    };
  },
};

const natsGetter: TextMapGetter<NatsHeaders> = {
  keys: (headers) => headers.keys(),
  // a sender that is not this library may write X-B3-TraceId
  get: (headers, key) => headers.get(key) || headers.get(key, IGNORE_CASE) || undefined,
};

export const natsServer: ServerTransport = {
  system: SYSTEM,
  staticAttributes: () => ({}),
  parent: (rpcContext, propagator) => {
    const headers = (rpcContext as { getHeaders?: () => unknown } | undefined)?.getHeaders?.() as
      NatsHeaders | undefined;
    return extractParent(propagator, typeof headers?.get === 'function' ? headers : undefined, natsGetter);
  },
  attributes: (_server, rpcContext) => {
    const subject = (rpcContext as { getSubject?: () => unknown } | undefined)?.getSubject?.();
    return typeof subject === 'string' ? { [MESSAGING_DESTINATION_NAME]: subject } : {};
  },
};
