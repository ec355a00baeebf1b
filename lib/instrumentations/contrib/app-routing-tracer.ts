import {
  context,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerOptions,
  type TracerProvider,
} from '@opentelemetry/api';
import { runtimeOf } from '../../runtime/active-runtime.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';

/**
 * The tracer provider the instrumentations are given. A package can be patched once per
 * process, however many apps run in it: each span goes to the app whose work it belongs to
 * (the app of the request in the context, else the most recently started one).
 */
export class AppRoutingTracerProvider implements TracerProvider {
  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    return new AppRoutingTracer(name, version, options);
  }
}

class AppRoutingTracer implements Tracer {
  /** Per app, this scope's tracer: a lookup per span, not the provider's key-building getTracer. */
  private readonly tracers = new WeakMap<TracingRuntime, Tracer>();

  constructor(
    private readonly name: string,
    private readonly version?: string,
    private readonly options?: TracerOptions,
  ) {}

  startSpan(name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    return this.target(ctx).startSpan(name, options, ctx);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const ctx = rest.length >= 3 ? (rest[1] as Context) : context.active();
    const tracer = this.target(ctx) as unknown as { startActiveSpan(...args: unknown[]): ReturnType<F> };
    return tracer.startActiveSpan(name, ...rest);
  }

  private target(ctx: Context): Tracer {
    const runtime = runtimeOf(ctx);
    let tracer = this.tracers.get(runtime);
    if (!tracer) this.tracers.set(runtime, (tracer = runtime.tracerFor(this.name, this.version, this.options)));
    return tracer;
  }
}
