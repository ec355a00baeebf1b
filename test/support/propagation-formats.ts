import type { PropagatorName } from 'nestjs-tracing';

/*
 * The trace context formats as a neighbour service writes and reads them, from each
 * format's own definition (W3C Trace Context, openzipkin/b3-propagation, Jaeger's
 * uber-trace-id), independently of the library's propagators.
 */
export type TraceFormat = Exclude<PropagatorName, 'baggage'>;
export const TRACE_FORMATS: TraceFormat[] = ['tracecontext', 'b3', 'b3multi', 'jaeger'];
export const ALL_PROPAGATORS: PropagatorName[] = [...TRACE_FORMATS, 'baggage'];

/** The caller's span, as an upstream service in that format sends it. */
export const CALLER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

export type Headers = Record<string, string>;

export const INCOMING: Record<TraceFormat, Headers> = {
  tracecontext: { traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01` },
  b3: { b3: `${CALLER.traceId}-${CALLER.spanId}-1` },
  b3multi: { 'X-B3-TraceId': CALLER.traceId, 'X-B3-SpanId': CALLER.spanId, 'X-B3-Sampled': '1' },
  jaeger: { 'uber-trace-id': `${CALLER.traceId}:${CALLER.spanId}:0:1` },
};

/** What a broken or hostile neighbour sends: the request must still be served, as a fresh trace. */
export const MALFORMED: Record<TraceFormat, Headers> = {
  tracecontext: { traceparent: `00-${CALLER.traceId}-${'0'.repeat(16)}-01` },
  b3: { b3: `${CALLER.traceId.slice(0, 20)}-${CALLER.spanId}-1` },
  b3multi: { 'X-B3-TraceId': 'not-hex-at-all', 'X-B3-SpanId': CALLER.spanId, 'X-B3-Sampled': '1' },
  jaeger: { 'uber-trace-id': `${CALLER.traceId}:${CALLER.spanId}:0` },
};

/** The fields each format adds to a carrier (lower case, as sent). */
export const FIELDS: Record<TraceFormat, string[]> = {
  tracecontext: ['traceparent'],
  b3: ['b3'],
  b3multi: ['x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled'],
  jaeger: ['uber-trace-id'],
};

export interface Decoded {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

type Lookup = (name: string) => string | undefined;

/** Reads a format's trace context from received headers, as a neighbour in that format would. */
export const DECODE: Record<TraceFormat, (get: Lookup) => Decoded | undefined> = {
  tracecontext: (get) => {
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(get('traceparent') ?? '');
    return m ? { traceId: m[1]!, spanId: m[2]!, sampled: (parseInt(m[3]!, 16) & 1) === 1 } : undefined;
  },
  b3: (get) => {
    const m = /^([0-9a-f]{32})-([0-9a-f]{16})-([01d])$/.exec(get('b3') ?? '');
    return m ? { traceId: m[1]!, spanId: m[2]!, sampled: m[3] !== '0' } : undefined;
  },
  b3multi: (get) => {
    const traceId = get('x-b3-traceid');
    const spanId = get('x-b3-spanid');
    if (!traceId || !spanId || !/^[0-9a-f]{32}$/.test(traceId) || !/^[0-9a-f]{16}$/.test(spanId)) return undefined;
    return { traceId, spanId, sampled: get('x-b3-sampled') === '1' };
  },
  jaeger: (get) => {
    const m = /^([0-9a-f]{32}):([0-9a-f]{16}):0:([0-9a-f]{2})$/.exec(get('uber-trace-id') ?? '');
    return m ? { traceId: m[1]!, spanId: m[2]!, sampled: (parseInt(m[3]!, 16) & 1) === 1 } : undefined;
  },
};

/** A lookup over a plain header object, case-insensitive, arrays read by their first value. */
export function lookup(headers: Record<string, unknown>): Lookup {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return (name) => {
    const value = lower[name];
    if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
    return typeof value === 'string' ? value : undefined;
  };
}
