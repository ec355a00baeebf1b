import { ROOT_CONTEXT, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import { runInSpan } from '../../engine/run-in-span.js';
import { withRuntime } from '../../runtime/active-runtime.js';
import type { SpanWrapper } from '../auto-trace/auto-span-site.js';
import { AutoSpans } from '../auto-trace/auto-spans.js';
import { findMethod } from '../auto-trace/methods.js';
import { ownedBy } from '../auto-trace/nest-explorer.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';
import { scheduleOf } from './schedule-metadata.accessor.js';

/**
 * `autoTrace.schedule`: every run of a `@Cron()`, `@Interval()` or `@Timeout()` method
 * (@nestjs/schedule) is the root span of a trace of its own, named `Jobs.method`, with its
 * schedule as attributes; automatic spans of what it calls nest beneath it. ScheduleExplorer
 * captures `instance[method]` in onModuleInit, after this patch. A timer carries no app,
 * so the run is traced by the app that owns the instance. An error is recorded and passed
 * on to the scheduler's own catch, which logs it and keeps the schedule going.
 */
export const scheduleInstrumentation: Instrumentation = {
  name: 'schedule',
  isEnabled: (options) => options.autoTrace.schedule,
  prepare({ runtime, options, classes, modules }) {
    const spans = new AutoSpans(runtime, 'scheduled jobs');
    for (const target of [...classes.providers, ...classes.controllers]) {
      if (!isAutoTraceableClass(options.autoTrace, target)) continue;
      for (const key of autoTraceableMethods(target)) {
        const schedule = scheduleOf(findMethod(target.prototype as object, key));
        if (schedule) spans.trace(target, key, 'scheduled', schedule, scheduledRun, ownedBy(modules, target));
      }
    }
    return spans.undo;
  },
};

/** A run in a new trace, whatever context the timer that fired it was created in. */
const scheduledRun: SpanWrapper = (site) => {
  const { spec, original } = site;
  const start = { kind: SpanKind.INTERNAL, attributes: spec.attributes };
  return function scheduledRun(this: unknown): unknown {
    const runtime = site.runtimeOwning(this);
    // eslint-disable-next-line prefer-rest-params -- passing `arguments` on costs no array per call
    if (runtime === undefined) return Reflect.apply(original, this, arguments);
    let span: Span;
    let spanContext: Context;
    try {
      span = runtime.tracer.startSpan(spec.name, start, ROOT_CONTEXT);
      spanContext = withRuntime(trace.setSpan(ROOT_CONTEXT, span), runtime);
    } catch (error) {
      runtime.report('starting a scheduled job span', error);
      // eslint-disable-next-line prefer-rest-params -- as above
      return Reflect.apply(original, this, arguments);
    }
    // eslint-disable-next-line prefer-rest-params -- as above
    return runInSpan(span, spanContext, original, this, arguments);
  };
};
