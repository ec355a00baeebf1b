import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import type { Span } from '@opentelemetry/api';
import { endClientSpan, startClientSpan } from './client-span.js';

type HttpModule = typeof http | typeof https;
type RequestFunction = (...args: unknown[]) => ClientRequest;

/** A connection closed before the whole response arrived, with no error of its own. */
const ABORTED = { name: 'aborted', message: 'the request ended before a complete response' };

/**
 * node:http and node:https offer no hook before a request's headers are sent (Node 20's
 * diagnostics channels fire after), so `request` and `get` of both modules are replaced,
 * once per process, and put back when the last app closes. `syncBuiltinESMExports()`
 * makes `import { request } from 'node:http'` see the change too. A module whose functions
 * a preloaded OpenTelemetry http instrumentation already wrapped (shimmer marks them
 * `__wrapped`) is left to it, so no request gets two CLIENT spans.
 */
export function wrapNodeHttp(): () => void {
  const restores = [wrap(http), wrap(https)].filter((restore) => restore !== undefined);
  if (restores.length === 0) return () => undefined;
  try {
    syncBuiltinESMExports();
  } catch (error) {
    for (const restore of restores) restore();
    throw error;
  }
  return () => {
    for (const restore of restores) restore();
    syncBuiltinESMExports();
  };
}

function wrap(mod: HttpModule): (() => void) | undefined {
  const target = mod as unknown as { request: RequestFunction; get: RequestFunction };
  const original = { request: target.request, get: target.get };
  if (isWrapped(original.request) || isWrapped(original.get)) return undefined;
  let active = true;
  // Node's own get() calls the module's internal request(), never the exported one: it is
  // rebuilt on the traced request, as Node writes it (request, then end()).
  const tracedRequest = function request(this: unknown, ...args: unknown[]): ClientRequest {
    const req = original.request.apply(this, args);
    if (active) traceRequest(req, args);
    return req;
  };
  const tracedGet = function get(this: unknown, ...args: unknown[]): ClientRequest {
    if (!active) return original.get.apply(this, args);
    const req = tracedRequest.apply(this, args);
    req.end();
    return req;
  };
  Object.defineProperty(tracedRequest, 'length', { value: original.request.length });
  Object.defineProperty(tracedGet, 'length', { value: original.get.length });
  target.request = tracedRequest;
  target.get = tracedGet;
  return () => {
    active = false;
    // someone who wrapped ours since keeps theirs; ours then only passes calls through
    if (target.request === tracedRequest) target.request = original.request;
    if (target.get === tracedGet) target.get = original.get;
  };
}

const isWrapped = (fn: unknown): boolean => (fn as { __wrapped?: unknown } | undefined)?.__wrapped === true;

/**
 * Starts the CLIENT span of a request just created in the caller's context and sets the
 * propagation headers on it: nothing is written before the caller gets the request back,
 * except when it passed its headers as a raw array or with `Expect`, which Node renders at
 * once (that request then gets its span but carries no context).
 */
function traceRequest(req: ClientRequest, args: unknown[]): void {
  let url: URL;
  try {
    url = requestUrl(req, args);
  } catch {
    return;
  }
  const started = startClientSpan({ method: req.method, url });
  if (!started) return;
  const { span } = started;
  try {
    if (!(req as { _header?: unknown })._header) {
      for (const [name, value] of Object.entries(started.headers)) req.setHeader(name, value);
    }
    observe(req, span);
  } catch {
    span.end();
  }
}

/**
 * Ends the span when the response has ended, when the request fails, or when it is
 * upgraded (a WebSocket), before the caller's own listeners hear of it; else at 'close'
 * (the connection closed before a complete response, or the caller destroyed the request).
 * All of it is seen through emit, not listeners: an 'error' listener would stop an
 * unhandled request error from being thrown, a 'response' one would stop Node from
 * draining a response nobody reads, an 'upgrade' one would keep the socket open.
 */
function observe(req: ClientRequest, span: Span): void {
  let ended = false;
  let response: IncomingMessage | undefined;
  const end = (error?: unknown): void => {
    if (ended) return;
    ended = true;
    endClientSpan(span, response?.statusCode, error);
  };
  const target = req as unknown as {
    emit: (this: ClientRequest, event: string | symbol, ...args: unknown[]) => boolean;
  };
  const emit = target.emit;
  target.emit = function emitObserved(this: ClientRequest, event: string | symbol, ...rest: unknown[]): boolean {
    if (event === 'response') {
      response = rest[0] as IncomingMessage;
      response.once('end', () => end());
    } else if (event === 'upgrade') {
      response = rest[0] as IncomingMessage;
      end();
    } else if (event === 'error') {
      end(rest[0]);
    }
    return emit.call(this, event, ...rest);
  };
  req.once('close', () => end(ABORTED));
}

/** What Node itself resolves: protocol, host and path from the request; the port from the arguments or the agent. */
function requestUrl(req: ClientRequest, args: unknown[]): URL {
  const [first, second] = args;
  const options = [second, first].find(
    (arg): arg is { port?: unknown; defaultPort?: unknown } =>
      typeof arg === 'object' && arg !== null && !(arg instanceof URL),
  );
  const given = typeof first === 'string' ? new URL(first) : first instanceof URL ? first : undefined;
  const agentPort = (req as { agent?: { defaultPort?: unknown } }).agent?.defaultPort;
  const port = [options?.port, given?.port || undefined, options?.defaultPort, agentPort].find(
    (p): p is string | number => typeof p === 'string' || typeof p === 'number',
  );
  const host = req.host.includes(':') ? `[${req.host}]` : req.host;
  const path = req.path.split('?', 1)[0] ?? '/';
  return new URL(`${req.protocol}//${host}${port === undefined ? '' : `:${port}`}${path}`);
}
