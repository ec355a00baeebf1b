import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { isRedacted, REDACTED } from '../attributes/redact.js';
import { toAttributeValue } from '../attributes/to-attribute-value.js';
import { withRuntime } from '../runtime/active-runtime.js';
import type { TracingRuntime } from '../runtime/tracing-runtime.js';
import { isIgnored } from './ignore-rules.js';

/** Set on the raw request by adapters that know the matched route before the response (Fastify). */
export const ROUTE = Symbol('nestjs-tracing:route');
const SERVER_SPAN = Symbol('nestjs-tracing:server-span');

type TracedRequest = IncomingMessage & { [ROUTE]?: string; [SERVER_SPAN]?: Span; route?: { path?: unknown } };
type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function serverSpanOf(req: IncomingMessage): Span | undefined {
  return (req as TracedRequest)[SERVER_SPAN];
}

/**
 * Starts the request's SERVER span before the framework sees the request, so the span
 * covers middleware, guards, pipes, interceptors, the handler and exception filters
 * alike, and everything they do runs in its context. Ends when the response is sent.
 */
export function handleTracedRequest(runtime: TracingRuntime, listeners: RequestListener[], req: IncomingMessage, res: ServerResponse, server: unknown): void {
  let ctx: Context;
  try {
    ctx = startServerSpan(runtime, req, res);
  } catch (error) {
    runtime.report('starting a server span', error);
    ctx = ROOT_CONTEXT;
  }
  context.with(ctx, dispatch, undefined, listeners, server, req, res);
}

function dispatch(listeners: RequestListener[], server: unknown, req: IncomingMessage, res: ServerResponse): void {
  for (const listener of listeners) listener.call(server, req, res);
}

function startServerSpan(runtime: TracingRuntime, req: TracedRequest, res: ServerResponse): Context {
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (runtime.options.ignore.length > 0 && isIgnored(runtime.options.ignore, path, req)) return ROOT_CONTEXT;

  const parent = extractParent(req);
  const method = req.method ?? 'GET';
  const span = runtime.tracer.startSpan(method, { kind: SpanKind.SERVER }, parent);
  if (span.isRecording()) {
    span.setAttributes(requestAttributes(req, method, path));
    if (runtime.options.captureHeaders.request.length > 0) recordRequestHeaders(span, req, runtime);
    req[SERVER_SPAN] = span;
    res.once('finish', () => endServerSpan(span, req, res, method, runtime));
    res.once('close', () => endServerSpan(span, req, res, method, runtime));
  }
  const ctx = withRuntime(trace.setSpan(parent, span), runtime);
  // Body parsers continue from socket events, which carry no request context.
  if (hasBody(req)) context.bind(ctx, req);
  return ctx;
}

/** A malformed traceparent/baggage yields a fresh root, never an error. */
function extractParent(req: IncomingMessage): Context {
  try {
    return propagation.extract(ROOT_CONTEXT, req.headers, boundedHeaders);
  } catch {
    return ROOT_CONTEXT;
  }
}

/** Longest traceparent considered: version 00 is 55 characters; later versions may add fields. */
export const MAX_TRACEPARENT_LENGTH = 256;

/**
 * Reads propagation headers for extraction with bounds of its own: an oversized
 * traceparent is ignored (the W3C parser would accept any length after a future
 * version's fields), and tracestate is cut to the W3C limits (32 members, 512 characters)
 * before it is kept, because every span of the trace would hold the raw value until
 * exported. Baggage is left to the W3C baggage propagator, which keeps at most 180 entries,
 * 4096 characters per entry and 8192 in all.
 */
const boundedHeaders: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    if (key === 'traceparent') {
      const first = Array.isArray(value) ? value[0] : value;
      return typeof first === 'string' && first.length <= MAX_TRACEPARENT_LENGTH ? first : undefined;
    }
    if (key === 'tracestate' && value !== undefined) {
      const raw = Array.isArray(value) ? value.join(',') : value;
      return raw.length > 0 ? new TraceState(raw).serialize() : undefined;
    }
    return value;
  },
};

/**
 * Header values as the stable semconv wants them (a string array), through the redaction
 * patterns (matched on the attribute key and on the header name) and the length cap.
 */
function headerAttribute(runtime: TracingRuntime, prefix: string, name: string, value: unknown): [string, string[]] | undefined {
  if (value === undefined) return undefined;
  const key = `${prefix}${name}`;
  const { redact, attributeValueLengthLimit } = runtime.options;
  if (isRedacted(key, redact) || isRedacted(name, redact)) return [key, [REDACTED]];
  const values = (Array.isArray(value) ? value : [value]).map(String);
  return [key, toAttributeValue(values, attributeValueLengthLimit) as string[]];
}

function recordRequestHeaders(span: Span, req: IncomingMessage, runtime: TracingRuntime): void {
  for (const name of runtime.options.captureHeaders.request) {
    const attribute = headerAttribute(runtime, 'http.request.header.', name, req.headers[name]);
    if (attribute) span.setAttribute(attribute[0], attribute[1]);
  }
}

function recordResponseHeaders(span: Span, res: ServerResponse, runtime: TracingRuntime): void {
  let sent: Map<string, string[]> | undefined;
  for (const name of runtime.options.captureHeaders.response) {
    let value: unknown = res.getHeader(name);
    // Headers given straight to writeHead() (Fastify does) are only in the header block sent.
    if (value === undefined) value = (sent ??= sentHeaders(res)).get(name);
    const attribute = headerAttribute(runtime, 'http.response.header.', name, value);
    if (attribute) span.setAttribute(attribute[0], attribute[1]);
  }
}

/** The response's header block as written to the socket, by lower-case name. */
function sentHeaders(res: ServerResponse): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  const block = (res as { _header?: unknown })._header;
  if (typeof block !== 'string') return headers;
  for (const line of block.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return headers;
}

function requestAttributes(req: IncomingMessage, method: string, path: string) {
  const host = req.headers.host ?? '';
  const colon = host.lastIndexOf(':');
  const bracket = host.lastIndexOf(']');
  const hasPort = colon > bracket && colon !== -1;
  const socket = req.socket;
  return {
    'http.request.method': method,
    'url.path': path,
    'url.scheme': (socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http',
    'server.address': hasPort ? host.slice(0, colon) : host || (socket?.localAddress ?? ''),
    'server.port': hasPort ? Number(host.slice(colon + 1)) : (socket?.localPort ?? 0),
    'client.address': socket?.remoteAddress ?? '',
    'user_agent.original': req.headers['user-agent'] ?? '',
    'network.protocol.version': req.httpVersion,
  };
}

function endServerSpan(span: Span, req: TracedRequest, res: ServerResponse, method: string, runtime: TracingRuntime): void {
  if (req[SERVER_SPAN] !== span) return;
  req[SERVER_SPAN] = undefined;
  try {
    const route = req[ROUTE] ?? (typeof req.route?.path === 'string' ? req.route.path : undefined);
    if (route) {
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    }
    if (res.headersSent) span.setAttribute('http.response.status_code', res.statusCode);
    if (res.headersSent && runtime.options.captureHeaders.response.length > 0) recordResponseHeaders(span, res, runtime);
    if (res.statusCode >= 500) {
      span.setAttribute('error.type', String(res.statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    } else if (!res.writableFinished) {
      // the client went away before the response was complete
      span.setAttribute('error.type', 'aborted');
    }
  } finally {
    span.end();
  }
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}
