import type { Instrumentation } from './tracing-options.interface.js';
import { check } from './checks.js';

/** `instrumentations`: OpenTelemetry instrumentation instances, each named and switchable. */
export function resolveInstrumentations(option: unknown): Instrumentation[] {
  const ok = option === undefined || (Array.isArray(option) && option.every(isInstrumentation));
  check(
    ok,
    'instrumentations',
    'an array of OpenTelemetry instrumentations (e.g. new PgInstrumentation() from @opentelemetry/instrumentation-pg)',
    Array.isArray(option)
      ? option.map((item: unknown) => (isInstrumentation(item) ? item.instrumentationName : item))
      : option,
  );
  return option ?? [];
}

const isInstrumentation = (v: unknown): v is Instrumentation =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Instrumentation).instrumentationName === 'string' &&
  ['enable', 'disable', 'setTracerProvider'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function');
