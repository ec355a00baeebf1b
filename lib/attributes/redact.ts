import type { AttributeValue } from '@opentelemetry/api';

export const REDACTED = '[REDACTED]';

/** Decisions per pattern list, so a span's keys are not matched against every pattern each time. */
const decisions = new WeakMap<readonly RegExp[], Map<string, boolean>>();
const MAX_REMEMBERED = 4096;

/** True when `key` matches a redact pattern. A key that cannot even be read as a string is redacted. */
export function isRedacted(key: string, patterns: readonly RegExp[]): boolean {
  if (typeof key !== 'string') return true;
  let known = decisions.get(patterns);
  const remembered = known?.get(key);
  if (remembered !== undefined) return remembered;
  let redacted = false;
  try {
    for (const pattern of patterns) {
      pattern.lastIndex = 0; // a /g or /y pattern keeps state between test() calls
      if (pattern.test(key)) {
        redacted = true;
        break;
      }
    }
  } catch {
    redacted = true;
  }
  if (!known) decisions.set(patterns, (known = new Map()));
  if (known.size >= MAX_REMEMBERED) known.clear();
  known.set(key, redacted);
  return redacted;
}

export function redactValue(key: string, value: AttributeValue, patterns: readonly RegExp[]): AttributeValue {
  return isRedacted(key, patterns) ? REDACTED : value;
}
