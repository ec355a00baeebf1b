import type { Type } from '@nestjs/common';
import { check, isPlainObject } from './checks.js';
import type { AutoTraceExclude, AutoTraceOptions } from './tracing-options.interface.js';

type Switch = Exclude<keyof AutoTraceOptions, 'providers' | 'exclude'>;

/** `autoTrace` with its defaults applied. */
export interface ResolvedAutoTrace extends Record<Switch, boolean> {
  providers: boolean | ((provider: Type, method: string) => boolean);
  exclude: readonly AutoTraceExclude[];
}

const SWITCHES: Record<Switch, boolean> = {
  controllers: true,
  enhancers: true,
  middleware: true,
  gateways: true,
  resolvers: true,
  events: true,
  schedule: true,
  queues: true,
};

export function resolveAutoTrace(option: unknown): ResolvedAutoTrace {
  if (option === false) {
    const off = Object.fromEntries(Object.keys(SWITCHES).map((key) => [key, false])) as Record<Switch, boolean>;
    return { ...off, providers: false, exclude: [] };
  }
  check(option === undefined || isPlainObject(option), 'autoTrace', 'false or an object of switches', option);
  const given = (option ?? {}) as AutoTraceOptions;
  const resolved = { ...SWITCHES } as Record<Switch, boolean>;
  for (const key of Object.keys(SWITCHES) as Switch[]) {
    const value = given[key];
    check(value === undefined || typeof value === 'boolean', `autoTrace.${key}`, 'true or false', value);
    if (value !== undefined) resolved[key] = value;
  }
  const providers = given.providers ?? false;
  check(
    typeof providers === 'boolean' || typeof providers === 'function',
    'autoTrace.providers',
    'true, false or a function (provider, method) => boolean',
    providers,
  );
  const exclude = given.exclude ?? [];
  check(
    Array.isArray(exclude) &&
      exclude.every((rule) => typeof rule === 'function' || typeof rule === 'string' || rule instanceof RegExp),
    'autoTrace.exclude',
    'an array of classes, class names or RegExps',
    exclude,
  );
  return { ...resolved, providers, exclude };
}

/** True when `exclude` names this class (by reference, by name, or by a RegExp matching its name). */
export function isExcluded(autoTrace: ResolvedAutoTrace, target: Type): boolean {
  for (const rule of autoTrace.exclude) {
    if (
      typeof rule === 'function'
        ? rule === target
        : typeof rule === 'string'
          ? rule === target.name
          : rule.test(target.name)
    ) {
      return true;
    }
  }
  return false;
}
