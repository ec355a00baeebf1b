import {
  context,
  createContextKey,
  defaultTextMapGetter,
  propagation,
  ROOT_CONTEXT,
  type Context,
  type TextMapGetter,
} from '@opentelemetry/api';

/**
 * The propagation headers of the message being sent (traceparent, tracestate, baggage),
 * computed once when its client span starts. Transports copy them into their own carrier
 * while the send runs in the span's context; nothing outside that context injects anything.
 */
const OUTGOING = createContextKey('nestjs-tracing outgoing message headers');

export type Headers = Readonly<Record<string, string>>;

export function withOutgoing(ctx: Context, headers: Headers): Context {
  return ctx.setValue(OUTGOING, headers);
}

export function outgoingHeaders(): Headers | undefined {
  return context.active().getValue(OUTGOING) as Headers | undefined;
}

/** The sender's context, on a fresh root: a message without one starts a new trace. */
export function extractParent<C>(
  carrier: C | undefined | null,
  getter: TextMapGetter<C> = defaultTextMapGetter as TextMapGetter<C>,
): Context {
  if (carrier === undefined || carrier === null) return ROOT_CONTEXT;
  try {
    return propagation.extract(ROOT_CONTEXT, carrier, getter);
  } catch {
    return ROOT_CONTEXT;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
