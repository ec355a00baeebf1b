import type { Attributes, AttributeValue, Span } from '@opentelemetry/api';
import type { ResolvedOptions } from '../resolve-options.js';
import { isRedacted, REDACTED } from './redact.js';
import { toAttributeValue } from './to-attribute-value.js';

type Limits = Pick<ResolvedOptions, 'attributeValueLengthLimit' | 'redact'>;

/** The one way the library turns a value it did not make itself into an attribute: redacted, converted, capped. */
export function safeAttributeValue(key: string, value: unknown, limits: Limits): AttributeValue | undefined {
  return isRedacted(key, limits.redact) ? REDACTED : toAttributeValue(value, limits.attributeValueLengthLimit);
}

export function setSafeAttribute(span: Span, key: string, value: unknown, limits: Limits): void {
  const converted = safeAttributeValue(key, value, limits);
  if (converted === undefined) return;
  try {
    span.setAttribute(key, converted);
  } catch {
    // a custom span implementation may throw; the caller's work matters more
  }
}

export function safeAttributes(attributes: Record<string, unknown> | undefined, limits: Limits): Attributes {
  const safe: Attributes = {};
  if (!attributes || typeof attributes !== 'object') return safe;
  for (const key of Object.keys(attributes)) {
    const converted = safeAttributeValue(key, attributes[key], limits);
    if (converted !== undefined) safe[key] = converted;
  }
  return safe;
}
