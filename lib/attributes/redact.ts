import type { AttributeValue } from '@opentelemetry/api';

export const REDACTED = '[REDACTED]';

/** What a redacted value becomes, in the value's shape: semconv header attributes are string arrays. */
export function redacted(value: unknown): AttributeValue {
  return Array.isArray(value) ? [REDACTED] : REDACTED;
}

/** Keys remembered per app: attribute keys are few and fixed in code; a flood of made-up keys restarts the memory. */
const MAX_REMEMBERED = 4096;

/**
 * One app's redaction rules (the `redact` option and its defaults), with each key's
 * decision remembered so that a span's keys are not matched against every pattern each time.
 */
export class Redactor {
  private readonly decisions = new Map<string, boolean>();

  constructor(readonly patterns: readonly RegExp[]) {}

  /** True when `key` matches a pattern. A key that cannot even be read as a string is redacted. */
  matches(key: string): boolean {
    if (typeof key !== 'string') return true;
    const remembered = this.decisions.get(key);
    if (remembered !== undefined) return remembered;
    let redacted = false;
    try {
      for (const pattern of this.patterns) {
        pattern.lastIndex = 0; // a /g or /y pattern keeps state between test() calls
        if (pattern.test(key)) {
          redacted = true;
          break;
        }
      }
    } catch {
      redacted = true;
    }
    if (this.decisions.size >= MAX_REMEMBERED) this.decisions.clear();
    this.decisions.set(key, redacted);
    return redacted;
  }
}
