import { AutoSpans } from '../auto-trace/auto-spans.js';
import { findMethod } from '../auto-trace/methods.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';
import { listenedEvents } from './events-metadata.accessor.js';

/**
 * `autoTrace.events`: a span per call of an `@OnEvent()` listener (@nestjs/event-emitter),
 * named `Listener.method`, `nestjs.type=listener`, `nestjs.event` the event(s) it listens
 * to. EventEmitter2 calls listeners in the emitter's async context (`emit`, `emitAsync`,
 * and `async: true` listeners through setImmediate/nextTick alike), so the span is a child
 * of whatever span emitted; an event emitted outside traced work (at bootstrap) is a plain
 * call. The loader reads `instance[method]` per call, so the prototype patch is seen
 * whenever it was installed; nothing of the package is loaded.
 */
export const eventsInstrumentation: Instrumentation = {
  name: 'events',
  isEnabled: (options) => options.autoTrace.events,
  prepare({ runtime, options, classes }) {
    const spans = new AutoSpans(runtime, 'event listeners');
    for (const target of [...classes.providers, ...classes.controllers]) {
      if (!isAutoTraceableClass(options.autoTrace, target)) continue;
      for (const key of autoTraceableMethods(target)) {
        const events = listenedEvents(findMethod(target.prototype as object, key));
        if (!events) continue;
        spans.trace(target, key, 'listener', { 'nestjs.event': events.length === 1 ? events[0] : events });
      }
    }
    return spans.undo;
  },
};
