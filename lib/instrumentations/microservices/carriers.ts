import {
  context,
  createContextKey,
  ROOT_CONTEXT,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
} from '@opentelemetry/api';

/**
 * The propagation headers of the message being sent (the trace context in every format
 * of the sending app's `propagators`), computed once when its client span starts. Transports copy them into their own carrier
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

/** The sender's context, on a fresh root: a message without one, or with a malformed one, starts a new trace. */
export function extractParent<C>(
  propagator: TextMapPropagator,
  carrier: C | undefined | null,
  getter: TextMapGetter<C> = objectGetter as TextMapGetter<C>,
): Context {
  if (carrier === undefined || carrier === null) return ROOT_CONTEXT;
  try {
    return propagator.extract(ROOT_CONTEXT, carrier, getter);
  } catch {
    return ROOT_CONTEXT;
  }
}

/**
 * Envelope metadata, AMQP headers, MQTT user properties: plain objects written by any
 * client, in any case (a Java sender's `X-B3-TraceId`); an exact match is tried first.
 */
const objectGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    let value = carrier[key];
    if (value === undefined) {
      for (const name of Object.keys(carrier)) {
        if (name.toLowerCase() === key) {
          value = carrier[name];
          break;
        }
      }
    }
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
    return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
  },
};

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
