import type { Attributes } from '@opentelemetry/api';

/*
 * The reflect-metadata @nestjs/schedule writes (schedule.constants.js), read here only: the
 * package is an optional peer, its keys are named, not imported.
 */
const SCHEDULER_TYPE = 'SCHEDULER_TYPE';
const SCHEDULER_NAME = 'SCHEDULER_NAME';
const CRON_OPTIONS = 'SCHEDULE_CRON_OPTIONS';
const INTERVAL_OPTIONS = 'SCHEDULE_INTERVAL_OPTIONS';
const TIMEOUT_OPTIONS = 'SCHEDULE_TIMEOUT_OPTIONS';

/** SchedulerType in @nestjs/schedule: CRON = 1, TIMEOUT = 2, INTERVAL = 3. */
const TYPES: Record<number, 'cron' | 'timeout' | 'interval'> = { 1: 'cron', 2: 'timeout', 3: 'interval' };

/**
 * The schedule of a `@Cron()`, `@Interval()` or `@Timeout()` method as span attributes
 * (`nestjs.schedule.type`, `.name`, `.cron`, `.time_zone`, `.delay_ms`); undefined for any
 * other method.
 */
export function scheduleOf(method: unknown): Attributes | undefined {
  if (typeof method !== 'function') return undefined;
  const type = TYPES[Reflect.getMetadata(SCHEDULER_TYPE, method) as number];
  if (!type) return undefined;
  const attributes: Attributes = { 'nestjs.schedule.type': type };
  const name: unknown = Reflect.getMetadata(SCHEDULER_NAME, method);
  if (typeof name === 'string') attributes['nestjs.schedule.name'] = name;
  if (type === 'cron') {
    const cron = Reflect.getMetadata(CRON_OPTIONS, method) as { cronTime?: unknown; timeZone?: unknown } | undefined;
    const time = cron?.cronTime;
    attributes['nestjs.schedule.cron'] = time instanceof Date ? time.toISOString() : String(time);
    if (typeof cron?.timeZone === 'string') attributes['nestjs.schedule.time_zone'] = cron.timeZone;
  } else {
    const options = Reflect.getMetadata(type === 'interval' ? INTERVAL_OPTIONS : TIMEOUT_OPTIONS, method) as
      { timeout?: unknown } | undefined;
    if (typeof options?.timeout === 'number') attributes['nestjs.schedule.delay_ms'] = options.timeout;
  }
  return attributes;
}
