import { context, createContextKey, ROOT_CONTEXT, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { recordHttpStatus } from '../../engine/span-outcome.js';
import { withRuntime } from '../../runtime/active-runtime.js';
import { LIGHT_ROOT } from '../../runtime/light-context.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { recordRequestHeaders, recordResponseHeaders } from './captured-headers.js';
import { isIgnored } from './ignore-rules.js';
import { requestHeaders } from './request-headers.js';

/** Set on the raw request by adapters that know the matched route before the response (Fastify). */
export const ROUTE = Symbol('nestjs-tracing:route');
/** Set on the raw request by what learns more than the route (a GraphQL operation): the span's final name. */
export const SPAN_NAME = Symbol('nestjs-tracing:server-span-name');
/** The raw request a request's context belongs to, for instrumentations that run inside it. */
const REQUEST = createContextKey('nestjs-tracing http request');

type TracedRequest = IncomingMessage & { [ROUTE]?: string; [SPAN_NAME]?: string; route?: { path?: unknown } };

/** The request whose SERVER span `ctx` descends from, if any. */
export function serverRequestIn(ctx: Context): TracedRequest | undefined {
  return ctx.getValue(REQUEST) as TracedRequest | undefined;
}
type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Starts the request's SERVER span before the framework sees the request, so the span
 * covers middleware, guards, pipes, interceptors, the handler and exception filters
 * alike, and everything they do runs in its context. Ends when the response is sent.
 */
export function handleTracedRequest(
  runtime: TracingRuntime,
  listeners: RequestListener[],
  req: IncomingMessage,
  res: ServerResponse,
  server: unknown,
): void {
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

  const parent = extractParent(runtime, req);
  const method = req.method ?? 'GET';
  const span = runtime.tracer.startSpan(method, { kind: SpanKind.SERVER }, parent);
  if (span.isRecording()) {
    span.setAttributes(requestAttributes(req, method, path));
    if (runtime.options.captureHeaders.request.length > 0) recordRequestHeaders(span, req, runtime);
    // a response closes once it is sent (the tick after 'finish') or when the client went away first
    res.once('close', () => endServerSpan(span, req, res, method, runtime));
  }
  const ctx = withRuntime(trace.setSpan(parent, span), runtime).setValue(REQUEST, req);
  // Body parsers continue from socket events, which carry no request context.
  if (hasBody(req)) context.bind(ctx, req);
  return ctx;
}

/** In any of the app's `propagators`; a malformed or missing one yields a fresh root, never an error. */
function extractParent(runtime: TracingRuntime, req: IncomingMessage): Context {
  try {
    return runtime.propagator.extract(LIGHT_ROOT, req, requestHeaders);
  } catch {
    return LIGHT_ROOT;
  }
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

function endServerSpan(
  span: Span,
  req: TracedRequest,
  res: ServerResponse,
  method: string,
  runtime: TracingRuntime,
): void {
  try {
    const route = req[ROUTE] ?? (typeof req.route?.path === 'string' ? req.route.path : undefined);
    if (route) {
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    }
    if (req[SPAN_NAME] !== undefined) span.updateName(req[SPAN_NAME]);
    if (res.headersSent) span.setAttribute('http.response.status_code', res.statusCode);
    if (res.headersSent && runtime.options.captureHeaders.response.length > 0)
      recordResponseHeaders(span, res, runtime);
    if (res.statusCode >= 500) {
      recordHttpStatus(span, res.statusCode, 'server');
    } else if (!res.writableFinished) {
      // the client went away before the response was complete
      span.setAttribute('error.type', 'aborted');
    }
  } finally {
    span.end();
  }
}

function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined ||
    (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')
  );
}
