import type { TextMapGetter } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import type { IncomingHttpHeaders } from 'node:http';

/** Longest traceparent considered: version 00 is 55 characters; later versions may add fields. */
const MAX_TRACEPARENT_LENGTH = 256;

/**
 * Reads propagation headers for extraction with bounds of its own: an oversized
 * traceparent is ignored (the W3C parser would accept any length after a future
 * version's fields), and tracestate is cut to the W3C limits (32 members, 512 characters)
 * before it is kept, because every span of the trace would hold the raw value until
 * exported. Baggage is left to the W3C baggage propagator, which keeps at most 180 entries,
 * 4096 characters per entry and 8192 in all.
 */
export const boundedHeaders: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    if (key === 'traceparent') {
      const first = Array.isArray(value) ? value[0] : value;
      return typeof first === 'string' && first.length <= MAX_TRACEPARENT_LENGTH ? first : undefined;
    }
    if (key === 'tracestate' && value !== undefined) {
      const raw = Array.isArray(value) ? value.join(',') : value;
      return raw.length > 0 ? new TraceState(raw).serialize() : undefined;
    }
    return value;
  },
};
