import {
  createContextKey,
  isSpanContextValid,
  trace,
  TraceFlags,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { parseTraceState, trimOws } from './trace-state.js';

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** Level 2: at least the right-most 7 bytes of the trace-id are random. */
export const RANDOM_TRACE_ID = 0x02;

/*
 * The SDK rebuilds a span's trace flags from its sampling decision (SAMPLED or NONE), so a
 * random-trace-id flag received from the caller would be gone by the next hop. It is kept
 * in the context instead, with the trace-id it belongs to: every span of the request
 * inherits the context, and injection sets the flag again for that trace only.
 */
const RANDOM_TRACE = createContextKey('nestjs-tracing w3c random trace-id');

/** "00-" + 32 + "-" + 16 + "-" + 2: a version 00 header is exactly this long; a later version at least. */
const LENGTH_V00 = 55;
const PREFIX = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-|$)/;
const ALL_ZERO = /^0+$/;

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: number;
}

/**
 * traceparent, W3C Trace Context §3.2: version 00 exactly as specified; a higher version
 * (not ff) parsed as §3.2.4 says, by its first four fields, whatever follows them and
 * however long it is. Only the prefix is read, so a long header costs nothing more.
 */
export function parseTraceParent(header: string): TraceParent | undefined {
  const value = trimOws(header);
  if (value.length < LENGTH_V00) return undefined;
  const match = PREFIX.exec(value);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && value.length !== LENGTH_V00)) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

/**
 * traceparent and tracestate, exactly as W3C Trace Context Level 1 defines them, plus
 * Level 2's random-trace-id flag, which is carried on from the caller. Always sends
 * version 00, with only the flags this version defines.
 */
export class W3CTraceContextPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (!spanContext || !isSpanContextValid(spanContext) || isTracingSuppressed(context)) return;
    let flags = spanContext.traceFlags & TraceFlags.SAMPLED;
    if (context.getValue(RANDOM_TRACE) === spanContext.traceId) flags |= RANDOM_TRACE_ID;
    setter.set(carrier, TRACEPARENT, `00-${spanContext.traceId}-${spanContext.spanId}-0${flags}`);
    const state = spanContext.traceState?.serialize();
    if (state) setter.set(carrier, TRACESTATE, state);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = getter.get(carrier, TRACEPARENT);
    // two traceparent fields are as good as none: which one is the caller?
    const single = Array.isArray(header) ? (header.length === 1 ? header[0] : undefined) : header;
    if (typeof single !== 'string') return context;
    const parent = parseTraceParent(single);
    if (!parent) return context;
    const traceState = parseTraceState(getter.get(carrier, TRACESTATE));
    const extracted = trace.setSpanContext(context, {
      traceId: parent.traceId,
      spanId: parent.spanId,
      traceFlags: parent.flags & TraceFlags.SAMPLED,
      isRemote: true,
      ...(traceState ? { traceState } : {}),
    });
    return parent.flags & RANDOM_TRACE_ID ? extracted.setValue(RANDOM_TRACE, parent.traceId) : extracted;
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}
