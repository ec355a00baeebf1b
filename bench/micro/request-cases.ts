/**
 * The traced request path without HTTP: a fake request emitted on an HTTP server (not
 * listening), through the library's server span and the two @Trace methods, against the
 * same 3 spans made by hand with the raw SDK, and against the untraced harness.
 */
import { propagation, ROOT_CONTEXT, SpanKind, type Attributes, type Tracer } from '@opentelemetry/api';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Case } from './case.js';
import { PlainOrders, RawOrders, TracedOrders } from './methods.js';

type FakeRequest = IncomingMessage & { route: { path: string } };
type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** What the HTTP server hands its 'request' listeners, as far as a server span reads it. */
export function fakeExchange(i: number): { req: FakeRequest; res: ServerResponse } {
  const req = Object.assign(new EventEmitter(), {
    url: `/orders/${i}`,
    method: 'GET',
    headers: { host: '127.0.0.1:3000', 'user-agent': 'autocannon', connection: 'keep-alive' },
    httpVersion: '1.1',
    socket: { remoteAddress: '127.0.0.1', localAddress: '127.0.0.1', localPort: 3000 },
    route: { path: '/orders/:id' },
  }) as unknown as FakeRequest;
  const res = Object.assign(new EventEmitter(), {
    statusCode: 200,
    headersSent: true,
    writableFinished: true,
  }) as unknown as ServerResponse;
  return { req, res };
}

/** The framework's part: run the handler, then send the response ('finish', then 'close'). */
export function respond(res: ServerResponse, work: Promise<unknown>, done: () => void): void {
  void work.then(() => {
    res.emit('finish');
    res.emit('close');
    done();
  });
}

/** The server span the raw SDK user writes by hand: the same attributes and end-of-request updates. */
function rawServerRequest(tracer: Tracer, orders: RawOrders, req: FakeRequest, res: ServerResponse, done: () => void) {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const attributes: Attributes = {
    'http.request.method': req.method!,
    'url.path': req.url!,
    'url.scheme': 'http',
    'server.address': '127.0.0.1',
    'server.port': 3000,
    'client.address': req.socket.remoteAddress ?? '',
    'user_agent.original': req.headers['user-agent'] ?? '',
    'network.protocol.version': req.httpVersion,
  };
  tracer.startActiveSpan('GET', { kind: SpanKind.SERVER, attributes }, parent, (server) => {
    res.once('finish', () => {
      server.updateName(`GET ${req.route.path}`);
      server.setAttribute('http.route', req.route.path);
      server.setAttribute('http.response.status_code', res.statusCode);
      server.end();
    });
    respond(res, orders.find('42'), done);
  });
}

/** A request case: `n` fake requests emitted on `server` one after the other, each awaited. */
export function requestCase(
  id: string,
  label: string,
  spans: number,
  server: Server,
  answered: (done: () => void) => void,
): Case {
  return {
    id,
    label,
    group: 'request',
    ctx: ROOT_CONTEXT,
    spans,
    maxBatch: 600,
    run: async (n) => {
      for (let i = 0; i < n; i++) {
        const { req, res } = fakeExchange(i);
        await new Promise<void>((resolve) => {
          answered(resolve);
          server.emit('request', req, res);
        });
      }
    },
  };
}

const noop = (): void => {};

/** The handler the traced app's server answers with (TracingModule wraps it in the server span). */
export function tracedHandler(): { handler: RequestListener; answered: (done: () => void) => void } {
  const orders = new TracedOrders();
  let current: () => void = noop;
  return {
    handler: (_req, res) => respond(res, orders.find('42'), current),
    answered: (done) => (current = done),
  };
}

export function requestCases(traced: Server, tracedAnswered: (done: () => void) => void, tracer: Tracer): Case[] {
  const plainOrders = new PlainOrders();
  const rawOrders = new RawOrders(tracer);
  let current: () => void = noop;
  const untraced = createServer((_req, res) => respond(res, plainOrders.find('42'), noop));
  const raw = createServer((req, res) => rawServerRequest(tracer, rawOrders, req as FakeRequest, res, current));
  return [
    // the harness alone: the request counts as handled once dispatched, as before the response
    requestCase('request_untraced', 'request path: untraced (harness only)', 0, untraced, (done) => done()),
    requestCase('request_raw', 'request path: raw SDK by hand, 3 spans', 3, raw, (done) => void (current = done)),
    requestCase('request_lib', 'request path: nestjs-tracing server span + 2 @Trace', 3, traced, tracedAnswered),
  ];
}
