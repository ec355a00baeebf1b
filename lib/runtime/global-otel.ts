import { context, propagation, ProxyTracerProvider, trace, type TracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

/*
 * The OpenTelemetry globals are per process, while a process may run several Nest apps
 * (tests, a gateway and a worker). Each app keeps its own provider and tracer; the globals
 * are installed by the first app that needs them and removed when the last one closes.
 */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
const ours = new WeakSet<TracerProvider>();
let holders = 0;
let installedContext = false;
let installedPropagator = false;
let globalProvider: TracerProvider | undefined;

/** True when something other than this library registered a global tracer provider. */
export function hasForeignTracerProvider(): boolean {
  const delegate = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();
  return delegate !== NOOP_PROVIDER && !ours.has(delegate);
}

export function acquireGlobals(provider?: TracerProvider): () => void {
  holders++;
  if (holders === 1) {
    installedContext = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    installedPropagator = propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
  }
  if (provider) {
    ours.add(provider);
    if (!globalProvider && !hasForeignTracerProvider() && trace.setGlobalTracerProvider(provider))
      globalProvider = provider;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders--;
    if (provider && globalProvider === provider) {
      trace.disable();
      globalProvider = undefined;
    }
    if (holders > 0) return;
    if (installedPropagator) propagation.disable();
    if (installedContext) context.disable();
    installedContext = installedPropagator = false;
  };
}
