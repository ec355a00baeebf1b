import {
  context,
  defaultTextMapSetter,
  SpanKind,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { Observable } from 'rxjs';
import { runtimeOf } from '../../runtime/active-runtime.js';
import { subscribeInSpan } from '../../engine/subscribe-in-span.js';
import { outgoingHeaders, withOutgoing } from './carriers.js';
import {
  clientSpanName,
  MESSAGING_DESTINATION_NAME,
  MESSAGING_OPERATION_NAME,
  MESSAGING_OPERATION_TYPE,
  MESSAGING_SYSTEM,
  type ClientOperation,
} from './semconv.js';
import { endWithFailure } from '../../engine/span-outcome.js';
import type { ClientProxyLike, ClientTransport, Packet } from './types.js';

const INSTRUMENTED = Symbol('nestjs-tracing:microservice-client');
/** Patterns are few and fixed in code; a client that makes them up per message stops being cached. */
const MAX_DESCRIBED_PATTERNS = 256;

/**
 * Traces a ClientProxy (TCP, Redis, NATS, RabbitMQ, MQTT) by replacing `send` and `emit`
 * on this instance only: `send()` gets a CLIENT span from subscription to the last reply,
 * `emit()` a PRODUCER span until the event is handed to the transport. The original method
 * runs in the span's context with the propagation headers beside it, where the transport
 * adapter (or the dispatch hook, for the packet envelope) picks them up.
 */
export function instrumentClient(
  client: ClientProxyLike & { [INSTRUMENTED]?: true },
  transport: ClientTransport,
): void {
  if (client[INSTRUMENTED]) return;
  client[INSTRUMENTED] = true;
  const fixed: Attributes = { [MESSAGING_SYSTEM]: transport.system, ...transport.staticAttributes(client) };
  // Name and attributes depend only on the operation and pattern: made once per pattern, not per message.
  const described: Record<ClientOperation, Map<string, SpanDescription>> = { send: new Map(), emit: new Map() };
  const describe = (operation: ClientOperation, pattern: unknown): SpanDescription => {
    const cache = described[operation];
    const cached = typeof pattern === 'string' ? cache.get(pattern) : undefined;
    if (cached) return cached;
    const route = routeOf(client, pattern);
    const description: SpanDescription = {
      name: clientSpanName(operation, route),
      kind: operation === 'send' ? SpanKind.CLIENT : SpanKind.PRODUCER,
      attributes: {
        ...fixed,
        [MESSAGING_OPERATION_TYPE]: 'send',
        [MESSAGING_OPERATION_NAME]: operation,
        [MESSAGING_DESTINATION_NAME]: transport.destination ? transport.destination(client, route) : route,
      },
    };
    if (typeof pattern === 'string' && cache.size < MAX_DESCRIBED_PATTERNS) cache.set(pattern, description);
    return description;
  };

  if (transport.usesEnvelope(client)) addToEnvelope(client);
  transport.installHeaders?.(client);

  const send = client.send;
  client.send = function tracedSend(this: ClientProxyLike, pattern: unknown, data: unknown): Observable<unknown> {
    const source = send.call(this, pattern, data);
    return new Observable((subscriber) => {
      const parent = context.active();
      const started = startSpan(parent, () => describe('send', pattern));
      if (!started) return source.subscribe(subscriber);
      const { span } = started;
      // Replies arrive on socket callbacks, in the context of whichever request opened the
      // connection: each one is handed over in the subscriber's own context.
      return subscribeInSpan(
        () => source,
        subscriber,
        started.context,
        (failure) => (failure ? endWithFailure(span, failure.error) : span.end()),
        parent,
      );
    });
  };

  const emit = client.emit;
  client.emit = function tracedEmit(this: ClientProxyLike, pattern: unknown, data: unknown): Observable<unknown> {
    const started = startSpan(context.active(), () => describe('emit', pattern));
    if (!started) return emit.call(this, pattern, data);
    const { span } = started;
    let result: Observable<unknown>;
    try {
      result = context.with(started.context, emit, this, pattern, data);
    } catch (error) {
      endWithFailure(span, error);
      throw error;
    }
    // emit() is hot: it dispatches whether or not anyone subscribes; watching does not change that.
    try {
      result.subscribe({ error: (error: unknown) => endWithFailure(span, error), complete: () => span.end() });
    } catch {
      span.end();
    }
    return result;
  };
}

interface SpanDescription {
  name: string;
  kind: SpanKind;
  attributes: Attributes;
}

interface StartedSpan {
  span: Span;
  /** The span's context, carrying the headers the transport puts on the message. */
  context: Context;
}

function startSpan(parent: Context, describe: () => SpanDescription): StartedSpan | undefined {
  if (isTracingSuppressed(parent)) return undefined;
  const runtime = runtimeOf(parent);
  try {
    const { name, kind, attributes } = describe();
    const span = runtime.tracer.startSpan(name, { kind, attributes }, parent);
    const spanContext = trace.setSpan(parent, span);
    const headers: Record<string, string> = {};
    runtime.propagator.inject(spanContext, headers, defaultTextMapSetter);
    return { span, context: withOutgoing(spanContext, headers) };
  } catch (error) {
    runtime.report('starting a microservice client span', error);
    return undefined;
  }
}

function routeOf(client: ClientProxyLike, pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  try {
    return client.normalizePattern ? client.normalizePattern(pattern) : JSON.stringify(pattern);
  } catch {
    return String(pattern);
  }
}

/**
 * TCP, Redis and MQTT 3.1.1 have no message headers: the context goes in the packet
 * envelope, beside pattern/data/id, as `metadata` — the field Nest itself reserves for
 * this and hands to handlers as `ctx.getMetadata()`. The user's `data` is never touched.
 * Uses the client's dispatch hook (chaining one the app set before or after us) where
 * Nest has it, else wraps createPacket on this instance.
 */
function addToEnvelope(client: ClientProxyLike): void {
  const attach = (packet: Packet): void => {
    const headers = outgoingHeaders();
    if (!headers || !packet || typeof packet !== 'object') return;
    packet.metadata =
      packet.metadata && typeof packet.metadata === 'object' ? { ...packet.metadata, ...headers } : { ...headers };
  };
  if (typeof client.setOnDispatchHook === 'function') {
    const setHook = client.setOnDispatchHook;
    let appHook = client.onDispatchHook;
    setHook.call(client, function dispatchWithTraceContext(packet: Packet) {
      appHook?.(packet);
      attach(packet);
    });
    client.setOnDispatchHook = (hook) => {
      appHook = hook;
    };
    return;
  }
  const createPacket = client.createPacket;
  if (typeof createPacket !== 'function') return;
  client.createPacket = function createPacketWithTraceContext(
    this: ClientProxyLike,
    pattern: unknown,
    data: unknown,
  ): Packet {
    const packet = createPacket.call(this, pattern, data);
    attach(packet);
    return packet;
  };
}
