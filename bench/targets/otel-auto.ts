/**
 * Peer: OpenTelemetry auto-instrumentation alone (http + express + nestjs-core), started by
 * the `--import ./otel-preload.js` preload. The app itself is the untraced one: spans come
 * from instrumentation only (on Express: the server span plus middleware and handler spans;
 * on Fastify: the http server span only; nestjs-core: none on Nest 12).
 */
import { appModule, PlainOrdersService } from './app.js';
import { serve } from './serve.js';
import { flushOtelSdk } from './otel-sdk.js';

await serve({ module: appModule(PlainOrdersService), flush: flushOtelSdk });
