import type { Attributes, AttributeValue, Span } from '@opentelemetry/api';
import { REDACTED, type Redactor } from './redact.js';
import { toAttributeValue } from './to-attribute-value.js';

/** What making a value safe depends on (the resolved options have both). */
export interface Limits {
  attributeValueLengthLimit: number;
  redact: Redactor;
}

/**
 * The one way the library turns a value it did not make itself into an attribute:
 * redacted, converted, capped. Never throws; undefined means "do not record".
 */
export function safeAttributeValue(key: string, value: unknown, limits: Limits): AttributeValue | undefined {
  if (typeof key !== 'string' || key === '') return undefined;
  return limits.redact.matches(key) ? REDACTED : toAttributeValue(value, limits.attributeValueLengthLimit);
}

export function setSafeAttribute(span: Span, key: string, value: unknown, limits: Limits): void {
  try {
    const converted = safeAttributeValue(key, value, limits);
    if (converted !== undefined) span.setAttribute(key, converted);
  } catch {
    // a custom span implementation may throw; the caller's work matters more
  }
}

/** Every own enumerable key of `attributes`, each made safe; a key whose getter throws is skipped. */
export function safeAttributes(attributes: Record<string, unknown> | undefined, limits: Limits): Attributes {
  const safe: Attributes = {};
  try {
    if (!attributes || typeof attributes !== 'object') return safe;
    for (const key of Object.keys(attributes)) {
      let value: unknown;
      try {
        value = attributes[key];
      } catch {
        continue;
      }
      const converted = safeAttributeValue(key, value, limits);
      if (converted !== undefined) safe[key] = converted;
    }
  } catch {
    // a proxy whose ownKeys trap throws: record what was made safe so far
  }
  return safe;
}
