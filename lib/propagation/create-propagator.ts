import type { TextMapPropagator } from '@opentelemetry/api';
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
      return new B3Propagator({ injectEncoding });
    }
    case 'jaeger': {
      const { JaegerPropagator } = await import('@opentelemetry/propagator-jaeger');
      return new JaegerPropagator();
    }
  }
}
