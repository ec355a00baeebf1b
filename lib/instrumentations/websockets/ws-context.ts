import {
  createContextKey,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  trace,
  type Attributes,
  type Context,
  type TextMapPropagator,
} from '@opentelemetry/api';
import type { Link } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';

/*
 * Where a WebSocket message's trace comes from. socket.io has no per-message headers and
 * OpenTelemetry's socket.io instrumentation carries no context at all, so:
 * - the connection: a W3C `traceparent`/`tracestate`/`baggage` on the handshake, as HTTP
 *   headers of the upgrade request (Node clients, socket.io `extraHeaders`) or, for browsers
 *   that cannot set headers on a WebSocket, in socket.io's `auth` object;
 * - a message: the same keys in an object payload's `_meta` field (the convention of the
 *   Model Context Protocol's `params._meta`), which the handler still receives unchanged.
 * A message continues its `_meta` trace, else starts one; the handshake's trace is a link.
 */

/** What is known of a connected client from its handshake, kept while it is connected. */
export interface ClientInfo {
  attributes: Attributes;
  /** The handshake's context (a fresh root when it carried none). */
  handshake: Context;
  links: Link[];
}

/** A message's exception, seen by Nest's WsExceptionsHandler after the handler's own span. */
export interface MessageFailure {
  failed?: { error: unknown };
}
const FAILURE = createContextKey('nestjs-tracing websocket message failure');

export const withFailure = (ctx: Context, failure: MessageFailure): Context => ctx.setValue(FAILURE, failure);
export const failureIn = (ctx: Context): MessageFailure | undefined =>
  ctx.getValue(FAILURE) as MessageFailure | undefined;

interface SocketIoClient {
  id?: unknown;
  nsp?: { name?: unknown };
  handshake?: { headers?: IncomingHttpHeaders; auth?: unknown; address?: unknown };
}
interface UpgradeRequest {
  headers?: IncomingHttpHeaders;
  url?: string;
  socket?: { remoteAddress?: string };
}

/** The client of a connection, socket.io (`client.handshake`) or ws (the upgrade request, second argument). */
export function describeClient(client: unknown, request: unknown, propagator: TextMapPropagator): ClientInfo {
  const io = client as SocketIoClient | null;
  const attributes: Attributes = {};
  let carrier: Record<string, unknown> | undefined;
  if (io?.handshake) {
    attributes['network.protocol.name'] = 'socket.io';
    if (typeof io.nsp?.name === 'string') attributes['websocket.namespace'] = io.nsp.name;
    if (typeof io.id === 'string') attributes['websocket.client.id'] = io.id;
    if (typeof io.handshake.address === 'string') attributes['client.address'] = io.handshake.address;
    const headers = io.handshake.headers ?? {};
    // browsers cannot set headers on a WebSocket: socket.io's `auth` may carry the context instead
    carrier = isObject(io.handshake.auth) ? { ...io.handshake.auth, ...headers } : headers;
  } else {
    const req = request as UpgradeRequest | null;
    attributes['network.protocol.name'] = 'websocket';
    if (typeof req?.url === 'string') attributes['url.path'] = req.url.split('?')[0] ?? req.url;
    const key = req?.headers?.['sec-websocket-key'];
    if (typeof key === 'string') attributes['websocket.client.id'] = key;
    if (typeof req?.socket?.remoteAddress === 'string') attributes['client.address'] = req.socket.remoteAddress;
    carrier = req?.headers;
  }
  const handshake = extract(carrier, propagator);
  const linked = trace.getSpanContext(handshake);
  return { attributes, handshake, links: linked ? [{ context: linked }] : [] };
}

/** The context an object payload carries in `_meta`; a fresh root otherwise. */
export function messageParent(data: unknown, propagator: TextMapPropagator): Context {
  return isObject(data) && isObject(data._meta) ? extract(data._meta, propagator) : ROOT_CONTEXT;
}

/** The string values of a carrier (headers, `auth`, `_meta`), read by the app's propagators as HTTP headers are. */
function extract(carrier: Record<string, unknown> | undefined, propagator: TextMapPropagator): Context {
  if (!carrier) return ROOT_CONTEXT;
  const fields: Record<string, string> = {};
  for (const key of Object.keys(carrier)) {
    const value = carrier[key];
    if (typeof value === 'string') fields[key] = value;
  }
  try {
    return propagator.extract(ROOT_CONTEXT, fields, defaultTextMapGetter);
  } catch {
    return ROOT_CONTEXT;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
