import {
  isSpanContextValid,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';

/**
 * Several formats at once (`propagators: ['tracecontext', 'b3', ...]`): every format is
 * injected; on extraction the first format, in the configured order, that carries a valid
 * parent wins, while baggage from every format is kept. (OpenTelemetry's
 * CompositePropagator lets the last one win.) A propagator that throws is skipped.
 */
export class FirstValidPropagator implements TextMapPropagator {
  private readonly allFields: string[];

  constructor(private readonly propagators: readonly TextMapPropagator[]) {
    this.allFields = [...new Set(propagators.flatMap((p) => p.fields()))];
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    for (const propagator of this.propagators) {
      try {
        propagator.inject(context, carrier, setter);
      } catch {
        // the other formats still go out
      }
    }
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const before = trace.getSpanContext(context);
    let found: SpanContext | undefined;
    let result = context;
    for (const propagator of this.propagators) {
      let next: Context;
      try {
        next = propagator.extract(result, carrier, getter);
      } catch {
        continue;
      }
      const spanContext = trace.getSpanContext(next);
      if (!found && spanContext && spanContext !== before && isSpanContextValid(spanContext)) found = spanContext;
      result = next;
    }
    return found ? trace.setSpanContext(result, lowerCase(found)) : result;
  }

  fields(): string[] {
    return this.allFields;
  }
}

/** B3 and Jaeger accept upper-case hex; every other format and exporter wants lower case. */
function lowerCase(spanContext: SpanContext): SpanContext {
  const { traceId, spanId } = spanContext;
  if (!/[A-F]/.test(traceId) && !/[A-F]/.test(spanId)) return spanContext;
  return { ...spanContext, traceId: traceId.toLowerCase(), spanId: spanId.toLowerCase() };
}
