import { context, SpanKind, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { isObservable, Observable } from 'rxjs';
import { withRuntime } from '../../runtime/active-runtime.js';
import { subscribeInSpan } from '../../engine/subscribe-in-span.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { MESSAGING_OPERATION_NAME, MESSAGING_OPERATION_TYPE, MESSAGING_SYSTEM, serverSpanName } from './semconv.js';
import { endWithFailure } from '../../engine/span-outcome.js';
import type { MessageHandler, ServerLike, ServerTransport } from './types.js';

const INSTRUMENTED = Symbol('nestjs-tracing:microservice-server');

/**
 * Traces the @MessagePattern/@EventPattern handlers of a TCP, Redis, NATS, RabbitMQ or
 * MQTT server. Every message, request or event, reaches its handler through
 * `getHandlerByPattern` (looked up per message, so replacing it on this instance works
 * even for a server that is already listening); it returns, once per handler, a wrapper
 * that runs the handler (guards, pipes, interceptors, filters included) in a SERVER span
 * (request) or CONSUMER span (event) continuing the sender's context, until the handler's
 * Promise settles or its Observable completes, errors or is unsubscribed.
 */
export function instrumentPatternServer(
  server: ServerLike & { [INSTRUMENTED]?: true },
  transport: ServerTransport,
  runtime: TracingRuntime,
): void {
  if (server[INSTRUMENTED] || typeof server.getHandlerByPattern !== 'function') return;
  server[INSTRUMENTED] = true;
  transport.install?.(server);
  const fixed: Attributes = {
    [MESSAGING_SYSTEM]: transport.system,
    [MESSAGING_OPERATION_TYPE]: 'process',
    [MESSAGING_OPERATION_NAME]: 'process',
    ...transport.staticAttributes(server),
  };
  const lookup = server.getHandlerByPattern;
  const traced = new WeakMap<MessageHandler, MessageHandler>();
  server.getHandlerByPattern = function tracedLookup(this: ServerLike, pattern: string): MessageHandler | null {
    const handler = lookup.call(this, pattern);
    if (typeof handler !== 'function') return handler;
    let wrapper = traced.get(handler);
    if (!wrapper) {
      wrapper = traceHandler(handler, registeredPattern(this, handler, pattern), fixed, this, transport, runtime);
      traced.set(handler, wrapper);
    }
    return wrapper;
  };
}

/** The pattern the handler was registered with (a wildcard's template, not the concrete topic). */
function registeredPattern(server: ServerLike, handler: MessageHandler, requested: string): string {
  try {
    if (server.messageHandlers) for (const [key, value] of server.messageHandlers) if (value === handler) return key;
  } catch {
    // fall back to the pattern of the message
  }
  return requested;
}

function traceHandler(
  handler: MessageHandler,
  pattern: string,
  fixed: Attributes,
  server: ServerLike,
  transport: ServerTransport,
  runtime: TracingRuntime,
): MessageHandler {
  const kind = handler.isEventHandler ? SpanKind.CONSUMER : SpanKind.SERVER;
  const name = serverSpanName(pattern);
  const wrapper: MessageHandler = function tracedHandler(this: unknown, ...args: unknown[]): unknown {
    let span: Span;
    let spanContext: Context;
    try {
      const rpcContext = args[1];
      const parent = transport.parent(rpcContext, runtime.propagator);
      span = runtime.tracer.startSpan(name, { kind }, parent);
      if (span.isRecording()) {
        span.setAttributes(fixed);
        span.setAttributes(transport.attributes(server, rpcContext));
      }
      spanContext = withRuntime(trace.setSpan(parent, span), runtime);
    } catch (error) {
      runtime.report('starting a microservice server span', error);
      return handler.apply(this, args);
    }
    let result: unknown;
    try {
      result = context.with(spanContext, handler, this, ...args);
    } catch (error) {
      endWithFailure(span, error);
      throw error;
    }
    return settle(result, span, spanContext);
  };
  // Nest reads these from the handler it looked up; `next` chains further @EventPattern handlers.
  Object.defineProperties(wrapper, {
    isEventHandler: {
      get: () => handler.isEventHandler,
      set: (v: boolean) => (handler.isEventHandler = v),
      configurable: true,
    },
    extras: { get: () => handler.extras, set: (v: unknown) => (handler.extras = v), configurable: true },
    next: { get: () => handler.next, set: (v: MessageHandler) => (handler.next = v), configurable: true },
  });
  return wrapper;
}

/** Ends the span when the handler's work ends; the result keeps its shape. */
function settle(result: unknown, span: Span, spanContext: Context): unknown {
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        if (isObservable(value)) return traceStream(value, span, spanContext);
        span.end();
        return value;
      },
      (error: unknown) => {
        endWithFailure(span, error);
        throw error;
      },
    );
  }
  if (isObservable(result)) return traceStream(result, span, spanContext);
  span.end();
  return result;
}

/** A streamed response: the span lasts until the stream completes, errors or is unsubscribed. */
function traceStream(source: Observable<unknown>, span: Span, spanContext: Context): Observable<unknown> {
  return new Observable((subscriber) =>
    subscribeInSpan(
      () => source,
      subscriber,
      spanContext,
      (failure) => (failure ? endWithFailure(span, failure.error) : span.end()),
    ),
  );
}
