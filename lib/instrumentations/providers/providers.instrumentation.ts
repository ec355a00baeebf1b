import type { Type } from '@nestjs/common';
import type { ResolvedAutoTrace } from '../../options/auto-trace.js';
import { providersUndecided } from '../../options/messages.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { AutoSpans } from '../auto-trace/auto-spans.js';
import { findMethod } from '../auto-trace/methods.js';
import { classOf } from '../auto-trace/nest-metadata.accessor.js';
import type { AppClasses } from '../auto-trace/nest-explorer.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';
import { definedInNodeModules } from './library-classes.js';

/**
 * `autoTrace.providers`: a span per call of the methods of the app's providers
 * (`nestjs.type=provider`). `true` means every provider class the app itself defines;
 * a function `(provider, method) => boolean` is asked about every method of every
 * provider, packages' included. Classes playing another part (controllers, enhancers)
 * are left to their own instrumentation. Class and `useValue` providers are patched at
 * instantiation; a factory's product is known only once made, so it is patched when the
 * app's modules initialise (its methods are looked up per call, so that is in time).
 */
export const providersInstrumentation: Instrumentation = {
  name: 'providers',
  isEnabled: (options) => options.autoTrace.providers !== false,
  prepare: ({ runtime, options, classes }) =>
    traceProviders(runtime, options.autoTrace, candidates(classes, classes.providers)),
  enable({ runtime, options, classes }) {
    const made = classes.madeByFactory.map((wrapper) => classOf(wrapper.instance)).filter((t) => t !== undefined);
    return traceProviders(runtime, options.autoTrace, candidates(classes, made));
  },
};

function candidates(classes: AppClasses, found: Type[]): Type[] {
  const elsewhere = (target: Type) => classes.controllers.includes(target) || classes.enhancers.has(target);
  const unique = [...new Set(found)].filter((target) => !elsewhere(target));
  return found === classes.providers ? unique : unique.filter((target) => !classes.providers.includes(target));
}

function traceProviders(runtime: TracingRuntime, autoTrace: ResolvedAutoTrace, targets: Type[]): () => void {
  const spans = new AutoSpans(runtime, 'providers');
  const chosen = targets.filter((target) => isAutoTraceableClass(autoTrace, target));
  const choose = autoTrace.providers;
  let library: Set<Type> | undefined = new Set();
  if (choose === true) {
    library = definedInNodeModules(chosen);
    if (!library) runtime.logger.warn(providersUndecided());
  }
  for (const target of chosen) {
    if (!library || library.has(target)) continue;
    for (const key of autoTraceableMethods(target)) {
      if (key === 'use' && isMiddlewareUse(target)) continue;
      if (choose === true || asks(choose, target, key, runtime)) spans.trace(target, key, 'provider');
    }
  }
  return spans.undo;
}

function asks(choose: ResolvedAutoTrace['providers'], target: Type, key: string, runtime: TracingRuntime): boolean {
  if (typeof choose !== 'function') return choose;
  try {
    return choose(target, key) === true;
  } catch (error) {
    runtime.report('autoTrace.providers', error);
    return false;
  }
}

/**
 * A middleware class listed as a provider too: its `use(req, res, next)` is the middleware
 * instrumentation's (a span that ends at next()), not a provider span around the whole rest
 * of the request. Which classes are middleware is known only once configure() runs.
 */
function isMiddlewareUse(target: Type): boolean {
  return (findMethod(target.prototype as object, 'use')?.length ?? 0) >= 3;
}
