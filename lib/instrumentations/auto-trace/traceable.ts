import type { Type } from '@nestjs/common';
import { isNoTrace } from '../../decorators/no-trace.decorator.js';
import { isExcluded, type ResolvedAutoTrace } from '../../options/auto-trace.js';
import { findMethod, methodNames } from './methods.js';

/** Nest calls these once in the app's life; a span for them would be noise in no request's trace. */
const NEVER_TRACED = new Set([
  'constructor',
  'onModuleInit',
  'onApplicationBootstrap',
  'onModuleDestroy',
  'beforeApplicationShutdown',
  'onApplicationShutdown',
]);

/** False for a class `@NoTrace()` or `exclude` takes out (and for anything that is not a class). */
export function isAutoTraceableClass(autoTrace: ResolvedAutoTrace, target: unknown): target is Type {
  return (
    typeof target === 'function' &&
    typeof target.prototype === 'object' &&
    target.prototype !== null &&
    !isNoTrace(target) &&
    !isExcluded(autoTrace, target as Type)
  );
}

/**
 * The methods of `target` (its own and inherited, nearest first) that may get an automatic
 * span, among `only` if given: plain methods, not getters or setters, not the constructor
 * or a lifecycle hook, not marked `@NoTrace()`. (`@Trace()` methods are skipped where the
 * span is installed, so an explicit span is never doubled.)
 */
export function autoTraceableMethods(target: Type, only?: readonly string[]): string[] {
  const prototype = target.prototype as object;
  return methodNames(prototype).filter(
    (key) => !NEVER_TRACED.has(key) && (!only || only.includes(key)) && !isNoTrace(target, findMethod(prototype, key)),
  );
}
