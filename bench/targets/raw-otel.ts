/**
 * Reference, not a peer: the raw OpenTelemetry SDK by hand, the least a hand-written
 * integration can do for the same 3 spans. The same TracerProvider, batch settings, OTLP
 * exporter and sink as everyone; a SERVER span started around the HTTP server's request
 * listener (where nestjs-tracing starts its own) with the same attributes, ended on
 * 'finish' with the route and status; `tracer.startActiveSpan` in the two methods.
 * No redaction, no export guard, no error handling beyond the minimum.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type SpanOptions,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { BATCH } from '../batch-settings.js';
import { appModule, type Order, type Orders } from './app.js';
import { serve, sinkUrl } from './serve.js';

const provider = new TracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'bench' }),
  spanProcessors: [
    new BatchSpanProcessor({
      exporter: new OTLPTraceExporter({ url: sinkUrl(), timeoutMillis: BATCH.exportTimeoutMillis }),
      ...BATCH,
    }),
  ],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
);
trace.setGlobalTracerProvider(provider);
const tracer = provider.getTracer('bench-raw');

const FIND: SpanOptions = {
  kind: SpanKind.INTERNAL,
  attributes: { 'code.function.name': 'RawOrdersService.find' },
};
const PRICE: SpanOptions = {
  kind: SpanKind.INTERNAL,
  attributes: { 'code.function.name': 'RawOrdersService.price' },
};

class RawOrdersService implements Orders {
  find(id: string): Promise<Order> {
    return tracer.startActiveSpan('RawOrdersService.find', FIND, async (span) => {
      try {
        return { id, total: this.price(id) };
      } finally {
        span.end();
      }
    });
  }

  price(id: string): number {
    return tracer.startActiveSpan('RawOrdersService.price', PRICE, (span) => {
      try {
        return id.length * 10;
      } finally {
        span.end();
      }
    });
  }
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Set by a Fastify onRequest hook: Fastify knows the route template, Express sets req.route. */
const ROUTE = Symbol('route');

function traceServer(server: Server): void {
  const listeners = server.listeners('request') as Listener[];
  server.removeAllListeners('request');
  server.on(
    'request',
    function (this: Server, req: IncomingMessage & { route?: { path?: string } }, res: ServerResponse) {
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const socket = req.socket;
      const attributes: Attributes = {
        'http.request.method': req.method,
        'url.path': q === -1 ? url : url.slice(0, q),
        'url.scheme': 'http',
        'server.address': socket.localAddress ?? '',
        'server.port': socket.localPort ?? 0,
        'client.address': socket.remoteAddress ?? '',
        'user_agent.original': req.headers['user-agent'] ?? '',
        'network.protocol.version': req.httpVersion,
      };
      tracer.startActiveSpan(req.method ?? 'GET', { kind: SpanKind.SERVER, attributes }, parent, (span) => {
        res.once('finish', () => {
          const route = (req as unknown as Record<symbol, string | undefined>)[ROUTE] ?? req.route?.path;
          if (route) {
            span.updateName(`${req.method} ${route}`);
            span.setAttribute('http.route', route);
          }
          span.setAttribute('http.response.status_code', res.statusCode);
          span.end();
        });
        for (const listener of listeners) listener.call(this, req, res);
      });
    },
  );
}

await serve({
  module: appModule(RawOrdersService),
  beforeListen: (app) => {
    traceServer(app.getHttpServer() as Server);
    const adapter = app.getHttpAdapter();
    if (adapter.getType() === 'fastify') {
      const fastify = adapter.getInstance() as {
        addHook(
          name: 'onRequest',
          hook: (request: { raw: object; routeOptions?: { url?: string } }, reply: unknown, done: () => void) => void,
        ): void;
      };
      fastify.addHook('onRequest', (request, _reply, done) => {
        if (request.routeOptions?.url) (request.raw as { [k: symbol]: string })[ROUTE] = request.routeOptions.url;
        done();
      });
    }
  },
  flush: () => provider.forceFlush(),
});
