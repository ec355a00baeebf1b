import type { PropagatorName } from './tracing-options.interface.js';
import { check } from './checks.js';
import { invalidEnv } from './messages.js';

export const PROPAGATOR_NAMES: readonly PropagatorName[] = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger'];
const DEFAULT: PropagatorName[] = ['tracecontext', 'baggage'];

/**
 * `propagators`, else OTEL_PROPAGATORS (comma-separated; `none` for no propagation, as the
 * OpenTelemetry specification defines it), else tracecontext and baggage. The order is the
 * order of precedence when reading; a name given twice counts once.
 */
export function resolvePropagators(option: unknown, env: NodeJS.ProcessEnv): PropagatorName[] {
  const valid = PROPAGATOR_NAMES.map((n) => `"${n}"`).join(', ');
  if (option !== undefined) {
    const ok = Array.isArray(option) && option.every((n) => PROPAGATOR_NAMES.includes(n as PropagatorName));
    check(ok, 'propagators', `an array of ${valid}`, option);
    return [...new Set(option as PropagatorName[])];
  }
  const names = (env.OTEL_PROPAGATORS ?? '')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0) return [...DEFAULT];
  for (const name of names) {
    if (name !== 'none' && !PROPAGATOR_NAMES.includes(name as PropagatorName)) {
      throw new Error(invalidEnv('OTEL_PROPAGATORS', `a list of ${PROPAGATOR_NAMES.join(', ')} (or none)`, name));
    }
  }
  return [...new Set(names.filter((n): n is PropagatorName => n !== 'none'))];
}
