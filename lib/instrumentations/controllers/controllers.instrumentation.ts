import type { Type } from '@nestjs/common';
import type { ResolvedAutoTrace } from '../../options/auto-trace.js';
import { AutoSpans } from '../auto-trace/auto-spans.js';
import { isMessageHandler, isRouteHandler } from '../auto-trace/nest-metadata.accessor.js';
import { findMethod } from '../auto-trace/methods.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';

/**
 * `autoTrace.controllers`: a span per call of a route handler (`@Get()`, ...) or message
 * handler (`@MessagePattern()`, `@EventPattern()`), `nestjs.type=handler`, beneath the
 * request's SERVER span (or the message's SERVER/CONSUMER span) and beneath the
 * interceptors around it. Patched at instantiation: Nest captures `instance[method]` for
 * routes in `app.init()` before any `onModuleInit`.
 */
export const controllersInstrumentation: Instrumentation = {
  name: 'controllers',
  isEnabled: (options) => options.autoTrace.controllers,
  prepare({ runtime, options, classes }) {
    const spans = new AutoSpans(runtime, 'controllers');
    for (const target of classes.controllers) traceHandlers(spans, options.autoTrace, target);
    return spans.undo;
  },
};

function traceHandlers(spans: AutoSpans, autoTrace: ResolvedAutoTrace, target: Type): void {
  if (!isAutoTraceableClass(autoTrace, target)) return;
  for (const key of autoTraceableMethods(target)) {
    const method = findMethod(target.prototype as object, key);
    if (!isRouteHandler(method) && !isMessageHandler(method)) continue;
    spans.trace(target, key, 'handler', { 'nestjs.controller': target.name, 'nestjs.callback': key });
  }
}
