import { ROOT_CONTEXT, SpanKind, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import type { AnyMethod } from '../../engine/method.js';
import { runInSpan } from '../../engine/run-in-span.js';
import { withRuntime } from '../../runtime/active-runtime.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { describeClient, messageParent, withFailure, type ClientInfo, type MessageFailure } from './ws-context.js';

/** What WebSocketsController asks of an adapter (AbstractWsAdapter), as far as tracing goes. */
export interface WsAdapterLike {
  bindClientConnect: (this: unknown, server: unknown, callback: AnyMethod) => unknown;
  bindClientDisconnect?: (this: unknown, client: unknown, callback: AnyMethod) => unknown;
  bindMessageHandlers: (this: unknown, client: unknown, handlers: MessageHandler[], transform: AnyMethod) => unknown;
}
interface MessageHandler {
  message: unknown;
  callback: AnyMethod;
  isAckHandledManually?: boolean;
}

const PATCHED = ['bindClientConnect', 'bindClientDisconnect', 'bindMessageHandlers'] as const;

/** Whether any gateway of the app has `handleConnection` / `handleDisconnect`: only then a span for either. */
export interface GatewayHooks {
  connect: boolean;
  disconnect: boolean;
}

/**
 * SERVER spans for the app's WebSocket adapter (socket.io's IoAdapter, ws's WsAdapter or a
 * custom one): `WS <event>` around each message's callback, which runs guards, pipes,
 * interceptors, the handler and exception filters (a fresh trace, or the message's
 * `_meta` one, linked to the handshake); when a gateway has the hook, `WS connect` around
 * the connection callback (a child of the handshake's trace) and `WS disconnect` around
 * the disconnection callback (linked). The callbacks run in the span's context with the app's runtime, so the
 * gateway's own methods get their automatic spans beneath. Patched on this adapter
 * instance only; the undo puts its methods back.
 */
export function traceAdapter(adapter: WsAdapterLike, runtime: TracingRuntime, hooks: GatewayHooks): () => void {
  const clients = new WeakMap<object, ClientInfo>();
  const infoOf = (client: unknown, request?: unknown): ClientInfo => {
    const known = typeof client === 'object' && client !== null ? clients.get(client) : undefined;
    if (known) return known;
    let info: ClientInfo;
    try {
      info = describeClient(client, request, runtime.propagator);
    } catch (error) {
      runtime.report('reading a WebSocket handshake', error);
      info = { attributes: {}, handshake: ROOT_CONTEXT, links: [] };
    }
    if (typeof client === 'object' && client !== null) clients.set(client, info);
    return info;
  };
  const own = Object.fromEntries(PATCHED.map((key) => [key, Object.getOwnPropertyDescriptor(adapter, key)]));
  const original = {
    connect: adapter.bindClientConnect,
    disconnect: adapter.bindClientDisconnect,
    messages: adapter.bindMessageHandlers,
  };

  adapter.bindClientConnect = function tracedConnect(this: unknown, server: unknown, callback: AnyMethod) {
    const traced = function onConnection(this: unknown, ...args: unknown[]): unknown {
      const info = infoOf(args[0], args[1]);
      if (!hooks.connect) return Reflect.apply(callback, this, args);
      return inSpan(runtime, 'WS connect', info.handshake, [], info.attributes, callback, this, args);
    };
    return original.connect.call(this, server, traced);
  };
  if (original.disconnect && hooks.disconnect) {
    const disconnect = original.disconnect;
    adapter.bindClientDisconnect = function tracedDisconnect(this: unknown, client: unknown, callback: AnyMethod) {
      const traced = function onDisconnect(this: unknown, ...args: unknown[]): unknown {
        const info = infoOf(client);
        const attributes = { ...info.attributes, ...closeAttributes(args) };
        return inSpan(runtime, 'WS disconnect', ROOT_CONTEXT, info.links, attributes, callback, this, args);
      };
      return disconnect.call(this, client, traced);
    };
  }
  adapter.bindMessageHandlers = function tracedMessages(client, handlers, transform) {
    const info = infoOf(client);
    const traced = handlers.map((handler) => ({ ...handler, callback: tracedMessage(runtime, info, handler) }));
    return original.messages.call(this, client, traced, transform);
  };

  return () => {
    for (const key of PATCHED) {
      const descriptor = own[key];
      if (descriptor) Object.defineProperty(adapter, key, descriptor);
      else delete (adapter as unknown as Record<string, unknown>)[key];
    }
  };
}

function tracedMessage(runtime: TracingRuntime, info: ClientInfo, handler: MessageHandler): AnyMethod {
  const event = String(handler.message);
  const name = `WS ${event}`;
  const attributes = { ...info.attributes, 'websocket.event.name': event };
  const { callback } = handler;
  return function onMessage(this: unknown, ...args: unknown[]): unknown {
    const failure: MessageFailure = {};
    return inSpan(
      runtime,
      name,
      messageParent(args[0], runtime.propagator),
      info.links,
      attributes,
      callback,
      this,
      args,
      failure,
    );
  };
}

function inSpan(
  runtime: TracingRuntime,
  name: string,
  parent: Context,
  links: Link[],
  attributes: Attributes,
  callback: AnyMethod,
  self: unknown,
  args: unknown[],
  failure?: MessageFailure,
): unknown {
  let span: Span;
  let spanContext: Context;
  try {
    span = runtime.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, links }, parent);
    spanContext = withRuntime(trace.setSpan(parent, span), runtime);
    if (failure) spanContext = withFailure(spanContext, failure);
  } catch (error) {
    runtime.report('starting a WebSocket span', error);
    return Reflect.apply(callback, self, args);
  }
  return runInSpan(span, spanContext, callback, self, args, failure && (() => failure.failed));
}

/** socket.io passes the reason (`'client namespace disconnect'`), ws the close code and reason. */
function closeAttributes(args: unknown[]): Attributes {
  const [first] = args;
  if (typeof first === 'string') return { 'websocket.close.reason': first };
  if (typeof first === 'number') return { 'websocket.close.code': first };
  return {};
}
