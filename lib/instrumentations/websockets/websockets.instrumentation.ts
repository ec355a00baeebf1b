import { context } from '@opentelemetry/api';
import type { Type } from '@nestjs/common';
import type { ApplicationConfig } from '@nestjs/core/application-config.js';
import type { ResolvedAutoTrace } from '../../options/auto-trace.js';
import { TracingGlobals } from '../../runtime/tracing-globals.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { AutoSpans } from '../auto-trace/auto-spans.js';
import { findMethod } from '../auto-trace/methods.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';
import { loadOptional } from '../load-optional.js';
import { isGateway, isMessageSubscriber } from './gateway-metadata.accessor.js';
import { traceAdapter, type GatewayHooks, type WsAdapterLike } from './traced-adapter.js';
import { failureIn } from './ws-context.js';

interface WsExceptionsHandlerModule {
  WsExceptionsHandler: { prototype: { handle: (this: unknown, exception: unknown, host: unknown) => unknown } };
}

const HOOKS = ['handleConnection', 'handleDisconnect'];

/**
 * `autoTrace.gateways` (@nestjs/websockets, socket.io and ws adapters alike): the adapter's
 * SERVER spans (traced-adapter.ts) and, beneath them, a span per call of a gateway's
 * `@SubscribeMessage()` handlers and `handleConnection`/`handleDisconnect`
 * (`nestjs.type=handler`). The adapter is patched when Nest first asks the app's config
 * for it, in app.init(), before any gateway binds; gateway methods are patched now, before
 * WebSocketsController captures them. An exception the handler's filters turn into an
 * `exception` message still marks the message span (Nest's WsExceptionsHandler is watched,
 * once per process). Without @nestjs/websockets there is no gateway, and nothing happens.
 */
export const gatewaysInstrumentation: Instrumentation = {
  name: 'gateways',
  isEnabled: (options) => options.autoTrace.gateways,
  async prepare({ runtime, options, classes, config }) {
    const gateways = classes.providers.filter(isGateway);
    if (gateways.length === 0) return;
    // gateways exist, so the package does: were this file to move, only the watcher would be lost
    const handlers = await loadOptional<WsExceptionsHandlerModule>(
      '@nestjs/websockets/exceptions/ws-exceptions-handler.js',
    );
    const spans = new AutoSpans(runtime, 'gateways');
    for (const target of gateways) traceGateway(spans, options.autoTrace, target);
    const releaseHook = handlers
      ? TracingGlobals.share('websocket exceptions', () => watchExceptions(handlers))
      : () => undefined;
    const has = (hook: string) => gateways.some((target) => findMethod(target.prototype as object, hook) !== undefined);
    const hooks = { connect: has('handleConnection'), disconnect: has('handleDisconnect') };
    const restoreConfig = traceAdapterOf(config, runtime, hooks);
    return () => {
      restoreConfig();
      releaseHook();
      spans.undo();
    };
  },
};

function traceGateway(spans: AutoSpans, autoTrace: ResolvedAutoTrace, target: Type): void {
  if (!isAutoTraceableClass(autoTrace, target)) return;
  for (const key of autoTraceableMethods(target)) {
    if (HOOKS.includes(key) || isMessageSubscriber(findMethod(target.prototype as object, key))) {
      spans.trace(target, key, 'handler', { 'nestjs.gateway': target.name, 'nestjs.callback': key });
    }
  }
}

/** The app's adapter is set with app.useWebSocketAdapter() after this phase; it is traced when Nest first reads it. */
function traceAdapterOf(config: ApplicationConfig, runtime: TracingRuntime, hooks: GatewayHooks): () => void {
  const own = Object.getOwnPropertyDescriptor(config, 'getIoAdapter');
  const read = config.getIoAdapter.bind(config);
  let traced: { adapter: unknown; undo: () => void } | undefined;
  config.getIoAdapter = function tracedAdapter() {
    const adapter = read() as unknown;
    if (adapter && traced?.adapter !== adapter) {
      traced?.undo();
      try {
        traced = { adapter, undo: traceAdapter(adapter as WsAdapterLike, runtime, hooks) };
      } catch (error) {
        runtime.report('tracing the WebSocket adapter', error);
        traced = { adapter, undo: () => undefined };
      }
    }
    return adapter as ReturnType<ApplicationConfig['getIoAdapter']>;
  };
  return () => {
    traced?.undo();
    if (own) Object.defineProperty(config, 'getIoAdapter', own);
    else delete (config as Partial<ApplicationConfig>).getIoAdapter;
  };
}

/** Tells the message span about the exception its filters handle (the span ends once the callback settles). */
function watchExceptions({ WsExceptionsHandler }: WsExceptionsHandlerModule): () => void {
  const proto = WsExceptionsHandler.prototype;
  const handle = proto.handle;
  const traced = function handleTraced(this: unknown, exception: unknown, host: unknown): unknown {
    const failure = failureIn(context.active());
    if (failure && !failure.failed) failure.failed = { error: exception };
    return handle.call(this, exception, host);
  };
  proto.handle = traced;
  return () => {
    // code that wrapped ours keeps it (now a plain pass-through)
    if (proto.handle === traced) proto.handle = handle;
  };
}
