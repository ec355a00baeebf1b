import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import type { Instrumentation } from '../instrumentation.js';
import { handleTracedRequest, ROUTE } from './server-span.js';

const INSTRUMENTED = Symbol('nestjs-tracing:instrumented');

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** SERVER spans for the app's HTTP server, Express or Fastify. */
export const httpServerInstrumentation: Instrumentation = {
  name: 'HTTP server',
  isEnabled: () => true,
  enable({ httpAdapter, runtime }) {
    if (!httpAdapter) return;
    const server = httpAdapter.getHttpServer() as Server | undefined;
    if (server) instrumentHttpServer(server, runtime);
    if (httpAdapter.getType() === 'fastify') instrumentFastifyRoutes(httpAdapter.getInstance());
  },
};

/**
 * Puts a SERVER span around every request the Nest app's HTTP server receives, by taking
 * over its 'request' listeners (Express and Fastify both register exactly one). Working at
 * the server, not in a Nest interceptor, is what lets the span cover guards and filters.
 */
function instrumentHttpServer(server: Server & { [INSTRUMENTED]?: true }, runtime: TracingRuntime): void {
  if (server[INSTRUMENTED]) return;
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length === 0) return;
  server[INSTRUMENTED] = true;
  server.removeAllListeners('request');
  server.on('request', function tracedRequest(this: Server, req: IncomingMessage, res: ServerResponse) {
    handleTracedRequest(runtime, listeners, req, res, this);
  });
}

interface FastifyLike {
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: unknown, done: () => void) => void): unknown;
}
interface FastifyRequestLike {
  raw: IncomingMessage & { [ROUTE]?: string };
  routeOptions?: { url?: string };
}

/** Fastify knows the matched route template before the handler; Express exposes it as req.route. */
function instrumentFastifyRoutes(instance: FastifyLike): void {
  instance.addHook('onRequest', (request, _reply, done) => {
    const url = request.routeOptions?.url;
    if (url) request.raw[ROUTE] = url;
    done();
  });
}
