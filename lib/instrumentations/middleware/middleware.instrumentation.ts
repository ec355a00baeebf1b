import type { MiddlewareConsumer, Type } from '@nestjs/common';
import type { AnyMethod } from '../../engine/method.js';
import type { ResolvedAutoTrace } from '../../options/auto-trace.js';
import { isExcluded } from '../../options/auto-trace.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { AutoSpans } from '../auto-trace/auto-spans.js';
import { findMethod } from '../auto-trace/methods.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';
import { hookConfigure } from './configure-hook.js';
import { middlewareSpan, tracedMiddlewareFunction } from './middleware-span.js';

/**
 * `autoTrace.middleware`: a span per run of a class middleware's `use` (`RequestIdMiddleware.use`)
 * or of a functional middleware (named after the function), from its call until it calls
 * `next()`, for the middleware every module applies with `consumer.apply(...)`.
 */
export const middlewareInstrumentation: Instrumentation = {
  name: 'middleware',
  isEnabled: (options) => options.autoTrace.middleware,
  prepare({ runtime, options, classes }) {
    const spans = new AutoSpans(runtime, 'middleware');
    const traceOne = (middleware: unknown) => traceMiddleware(middleware, spans, options.autoTrace, runtime);
    const unhooks = classes.modules.map((moduleRef) =>
      hookConfigure(moduleRef, runtime, (consumer) => traceApplied(consumer, traceOne)),
    );
    return () => {
      for (const unhook of unhooks) unhook();
      spans.undo();
    };
  },
};

/** Patches this app's consumer (a fresh object per module and app) so what it applies is traced. */
function traceApplied(consumer: MiddlewareConsumer, traceOne: (middleware: unknown) => unknown): void {
  const apply = (consumer as unknown as { apply?: unknown }).apply;
  if (typeof apply !== 'function') return;
  Object.defineProperty(consumer, 'apply', {
    configurable: true,
    writable: true,
    value: function tracedApply(this: unknown, ...middleware: unknown[]): unknown {
      const flat: unknown[] = middleware.flat(Infinity);
      return Reflect.apply(apply, this, flat.map(traceOne)) as unknown;
    },
  });
}

function traceMiddleware(
  middleware: unknown,
  spans: AutoSpans,
  autoTrace: ResolvedAutoTrace,
  runtime: TracingRuntime,
): unknown {
  if (typeof middleware !== 'function') return middleware;
  const prototype = (middleware as { prototype?: object }).prototype;
  if (prototype && findMethod(prototype, 'use')) {
    const target = middleware as Type;
    if (isAutoTraceableClass(autoTrace, target) && autoTraceableMethods(target, ['use']).length > 0) {
      spans.trace(target, 'use', 'middleware', {}, middlewareSpan);
    }
    return middleware;
  }
  if (isExcluded(autoTrace, middleware as Type)) return middleware;
  return tracedMiddlewareFunction(middleware as AnyMethod, runtime);
}
