import type { Type } from '@nestjs/common';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { traceMethodIn, type Owns, type SpanWrapper } from './auto-span-site.js';
import { autoSpanSpec, type NestType } from './auto-span-spec.js';
import type { Attributes } from '@opentelemetry/api';

/**
 * The automatic spans one instrumentation installs in one app, and their undo. How an
 * instrumentation uses the mechanism (controllers.instrumentation.ts is the shortest
 * example):
 *
 * ```ts
 * export const gatewaysInstrumentation: Instrumentation = {
 *   name: 'gateways',
 *   isEnabled: (options) => options.autoTrace.gateways,
 *   prepare({ runtime, options, classes }) {
 *     const spans = new AutoSpans(runtime, 'gateways');
 *     for (const target of classes.providers) {
 *       if (!isAutoTraceableClass(options.autoTrace, target)) continue; // @NoTrace, exclude
 *       for (const key of autoTraceableMethods(target)) {               // no getters, hooks, @NoTrace
 *         if (isMessageSubscriber(target, key)) spans.trace(target, key, 'gateway', { ... });
 *       }
 *     }
 *     return spans.undo;
 *   },
 * };
 * ```
 *
 * Discovery comes from `classes` (nest-explorer) and metadata reads from an accessor, so
 * the instrumentation itself only decides which methods get which `nestjs.type`. A
 * method with `@Trace()` is skipped here, and a method already traced by another
 * instrumentation of the same app is not traced twice. A fault is reported once and
 * leaves that method untraced.
 *
 * Spans are made only inside work the app traces: a context carrying its runtime. Server
 * and message spans put it there (`withRuntime`), as does a root `@Trace()` span; an
 * instrumentation that starts its own entry span (an event, a cron run, a job) must do the
 * same, so the automatic spans of what it calls nest beneath it.
 */
export class AutoSpans {
  private readonly undone: Array<() => void> = [];
  private readonly traced = new Map<Type, Set<string>>();

  constructor(
    private readonly runtime: TracingRuntime,
    private readonly where: string,
  ) {}

  /**
   * A span named `Class.method` with `nestjs.type` = `type` for every call of `target.prototype[key]`.
   * An entry point called outside traced work (a timer, a worker) passes `owns`, so its
   * wrapper can tell which app an instance belongs to (`site.runtimeOwning(this)`).
   */
  trace(target: Type, key: string, type: NestType, attributes?: Attributes, wrap?: SpanWrapper, owns?: Owns): void {
    let keys = this.traced.get(target);
    if (keys?.has(key)) return;
    try {
      const undo = traceMethodIn(this.runtime, target, key, autoSpanSpec(target, key, type, attributes), wrap, owns);
      if (!keys) this.traced.set(target, (keys = new Set()));
      keys.add(key);
      if (undo) this.undone.push(undo);
    } catch (error) {
      this.runtime.report(`automatic spans for ${this.where}`, error);
    }
  }

  /** Takes every span of this set out of the app (the prototype is restored when no other app uses it). */
  readonly undo = (): void => {
    for (const undo of this.undone.splice(0).reverse()) undo();
    this.traced.clear();
  };
}
