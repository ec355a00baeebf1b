import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** The active span's ids under the OpenTelemetry log field names; see traceLogFields(). */
export interface TraceLogFields {
  /** 32 lower-case hex characters. */
  trace_id?: string;
  /** 16 lower-case hex characters. */
  span_id?: string;
  /** W3C trace flags as 2 hex characters: `01` sampled, `00` not. */
  trace_flags?: string;
}

/**
 * `{ trace_id, span_id, trace_flags }` of the active span, or `{}` when none is active:
 * what a log line needs so a log backend can open its trace. For pino, `mixin: traceLogFields`;
 * for winston, `format((info) => Object.assign(info, traceLogFields()))()`.
 */
export function traceLogFields(): TraceLogFields {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const ids = span.spanContext();
  if (!isSpanContextValid(ids)) return {};
  return {
    trace_id: ids.traceId,
    span_id: ids.spanId,
    trace_flags: (ids.traceFlags & 0xff).toString(16).padStart(2, '0'),
  };
}
