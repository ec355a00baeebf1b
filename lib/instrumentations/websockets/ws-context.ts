import { createContextKey, propagation, ROOT_CONTEXT, trace, type Attributes, type Context } from '@opentelemetry/api';
import type { Link } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import { boundedHeaders } from '../http-server/bounded-headers.js';

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
export function describeClient(client: unknown, request: unknown): ClientInfo {
  const io = client as SocketIoClient | null;
  const attributes: Attributes = {};
  let carrier: Record<string, unknown> | undefined;
  if (io?.handshake) {
    attributes['network.protocol.name'] = 'socket.io';
    if (typeof io.nsp?.name === 'string') attributes['websocket.namespace'] = io.nsp.name;
    if (typeof io.id === 'string') attributes['websocket.client.id'] = io.id;
    if (typeof io.handshake.address === 'string') attributes['client.address'] = io.handshake.address;
    const headers = io.handshake.headers ?? {};
    carrier = headers.traceparent !== undefined ? headers : isObject(io.handshake.auth) ? io.handshake.auth : headers;
  } else {
    const req = request as UpgradeRequest | null;
    attributes['network.protocol.name'] = 'websocket';
    if (typeof req?.url === 'string') attributes['url.path'] = req.url.split('?')[0] ?? req.url;
    const key = req?.headers?.['sec-websocket-key'];
    if (typeof key === 'string') attributes['websocket.client.id'] = key;
    if (typeof req?.socket?.remoteAddress === 'string') attributes['client.address'] = req.socket.remoteAddress;
    carrier = req?.headers;
  }
  const handshake = extract(carrier);
  const linked = trace.getSpanContext(handshake);
  return { attributes, handshake, links: linked ? [{ context: linked }] : [] };
}

/** The context an object payload carries in `_meta`; a fresh root otherwise. */
export function messageParent(data: unknown): Context {
  return isObject(data) && isObject(data._meta) ? extract(data._meta) : ROOT_CONTEXT;
}

/** Only string values of the propagation keys, through the same bounds as HTTP headers. */
function extract(carrier: Record<string, unknown> | undefined): Context {
  if (!carrier) return ROOT_CONTEXT;
  const headers: IncomingHttpHeaders = {};
  for (const key of ['traceparent', 'tracestate', 'baggage']) {
    const value = carrier[key];
    if (typeof value === 'string') headers[key] = value;
  }
  if (headers.traceparent === undefined) return ROOT_CONTEXT;
  try {
    return propagation.extract(ROOT_CONTEXT, headers, boundedHeaders);
  } catch {
    return ROOT_CONTEXT;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
