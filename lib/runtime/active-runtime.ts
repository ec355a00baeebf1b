import { createContextKey, type Context } from '@opentelemetry/api';
import { TracingRuntime } from './tracing-runtime.js';
import { TracingGlobals } from './tracing-globals.js';

/*
 * Decorators are static, but a process may host several apps, each with its own service
 * name and exporters. A request's server span puts its app's runtime into the context, so
 * everything traced beneath it reports to the right app; outside a request the most
 * recently started app is used, and with none, the global OpenTelemetry API.
 */
const RUNTIME_KEY = createContextKey('nestjs-tracing runtime');

export function runtimeOf(ctx: Context): TracingRuntime {
  return (
    (ctx.getValue(RUNTIME_KEY) as TracingRuntime | undefined) ?? TracingGlobals.latest() ?? TracingRuntime.apiOnly()
  );
}

/**
 * The runtime a request, message or span of an app put into `ctx`, without the fallbacks:
 * automatic spans are made only inside work an app already traces, never as guesses.
 */
export function runtimeIn(ctx: Context): TracingRuntime | undefined {
  return ctx.getValue(RUNTIME_KEY) as TracingRuntime | undefined;
}

export function withRuntime(ctx: Context, runtime: TracingRuntime): Context {
  return ctx.setValue(RUNTIME_KEY, runtime);
}
