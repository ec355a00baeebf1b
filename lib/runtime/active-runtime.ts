import { createContextKey, trace, type Context } from '@opentelemetry/api';
import { resolveOptions } from '../resolve-options.js';
import { TRACER_NAME } from '../tracing.constants.js';
import { TracingRuntime } from './tracing-runtime.js';

/*
 * Decorators are static, but a process may host several apps, each with its own
 * service name and exporters. A request's server span puts its app's runtime into the
 * context, so everything traced beneath it reports to the right app; outside a request
 * the most recently started app is used, and with none, the global OpenTelemetry API.
 */
const RUNTIME_KEY = createContextKey('nestjs-tracing runtime');
const running: TracingRuntime[] = [];
let apiOnly: TracingRuntime | undefined;

export function runtimeOf(ctx: Context): TracingRuntime {
  return (ctx.getValue(RUNTIME_KEY) as TracingRuntime | undefined) ?? running[running.length - 1] ?? fallback();
}

export function withRuntime(ctx: Context, runtime: TracingRuntime): Context {
  return ctx.setValue(RUNTIME_KEY, runtime);
}

export function addRunning(runtime: TracingRuntime): void {
  running.push(runtime);
}

export function removeRunning(runtime: TracingRuntime): void {
  const index = running.indexOf(runtime);
  if (index >= 0) running.splice(index, 1);
}

function fallback(): TracingRuntime {
  apiOnly ??= new TracingRuntime(trace.getTracer(TRACER_NAME), resolveOptions({ exporter: 'none' }), false);
  return apiOnly;
}
