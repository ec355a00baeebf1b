import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import type { PropagatorName } from '../options/tracing-options.interface.js';
import { FirstValidPropagator } from './first-valid-propagator.js';
import { W3CTraceContextPropagator } from './w3c-trace-context.js';

/**
 * The app's propagator, from `propagators` in their order of precedence. B3 and Jaeger
 * are loaded only when named; B3 is read in its single- and multi-header forms alike, and
 * written as the name says (`b3`: one `b3` header, `b3multi`: the `X-B3-*` headers).
 */
export async function createPropagator(names: readonly PropagatorName[]): Promise<TextMapPropagator> {
  const propagators: TextMapPropagator[] = [];
  for (const name of names) propagators.push(await load(name));
  return new FirstValidPropagator(propagators);
}

async function load(name: PropagatorName): Promise<TextMapPropagator> {
  switch (name) {
    case 'tracecontext':
      return new W3CTraceContextPropagator();
    case 'baggage':
      return new W3CBaggagePropagator();
    case 'b3':
    case 'b3multi': {
      const { B3Propagator, B3InjectEncoding } = await import('@opentelemetry/propagator-b3');
      const injectEncoding = name === 'b3' ? B3InjectEncoding.SINGLE_HEADER : B3InjectEncoding.MULTI_HEADER;
      return new WholeB3Header(new B3Propagator({ injectEncoding }));
    }
    case 'jaeger': {
      const { JaegerPropagator } = await import('@opentelemetry/propagator-jaeger');
      return new JaegerPropagator();
    }
  }
}

/** b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]], or a sampling state alone (openzipkin/b3-propagation). */
const B3_SINGLE = /^(?:(?:[0-9a-f]{16}|[0-9a-f]{32})-[0-9a-f]{16}(?:-[01d](?:-[0-9a-f]{16})?)?|[01d])$/;

/**
 * The B3 propagator's single-header pattern is not anchored: it would find a trace in
 * the middle of a malformed `b3` header. One that is not whole is ignored, as a malformed
 * traceparent is.
 */
class WholeB3Header implements TextMapPropagator {
  constructor(private readonly b3: TextMapPropagator) {}

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.b3.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = getter.get(carrier, 'b3');
    const value = Array.isArray(header) ? header[0] : header;
    if (typeof value === 'string' && !B3_SINGLE.test(value)) return context;
    return this.b3.extract(context, carrier, getter);
  }

  fields(): string[] {
    return this.b3.fields();
  }
}
