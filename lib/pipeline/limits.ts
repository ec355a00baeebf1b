import { diag, type Attributes, type AttributeValue } from '@opentelemetry/api';
import { redacted, type Redactor } from '../attributes/redact.js';

/** What a span may hold, decided once per app (the SDK's SpanLimits, plus redaction). */
export interface RecordLimits {
  attributeValueLengthLimit: number;
  attributeCountLimit: number;
  attributePerEventCountLimit: number;
  attributePerLinkCountLimit: number;
  eventCountLimit: number;
  linkCountLimit: number;
  redactor: Redactor;
}

/**
 * The value a span keeps for `key`, or undefined when the SDK would keep nothing: null
 * values, empty keys and values that are not attribute values are refused (the last two
 * with a diag warning, as the SDK does); strings are cut at the length limit; a key that
 * matches a redaction rule gets `[REDACTED]`, so no processor or exporter sees the value.
 */
export function keptValue(key: string, value: unknown, limits: RecordLimits): AttributeValue | undefined {
  if (value == null) return undefined;
  if (typeof key !== 'string' || key.length === 0) {
    diag.warn(`Invalid attribute key: ${String(key)}`);
    return undefined;
  }
  let kept: AttributeValue;
  const type = typeof value;
  if (type === 'string') {
    const text = value as string;
    kept = text.length > limits.attributeValueLengthLimit ? text.substring(0, limits.attributeValueLengthLimit) : text;
  } else if (type === 'number' || type === 'boolean') {
    kept = value as number | boolean;
  } else if (Array.isArray(value) && isHomogeneous(value)) {
    const limit = limits.attributeValueLengthLimit;
    kept = value.map((item: unknown) =>
      typeof item === 'string' && item.length > limit ? item.substring(0, limit) : item,
    ) as AttributeValue;
  } else {
    diag.warn(`Invalid attribute value set for key: ${key}`);
    return undefined;
  }
  return limits.redactor.patterns.length > 0 && limits.redactor.matches(key) ? redacted(kept) : kept;
}

/** `attributes` as an event or a link keeps them: sanitized, at most `max`, the rest counted. */
export function keptAttributes(
  attributes: Attributes | undefined,
  max: number,
  limits: RecordLimits,
): { attributes: Attributes; dropped: number } {
  const kept: Attributes = {};
  let count = 0;
  let dropped = 0;
  if (attributes == null || typeof attributes !== 'object') return { attributes: kept, dropped };
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    const value = keptValue(key, attributes[key], limits);
    if (value === undefined) continue;
    if (count >= max) {
      dropped++;
      continue;
    }
    kept[key] = value;
    count++;
  }
  return { attributes: kept, dropped };
}

function isHomogeneous(values: unknown[]): boolean {
  let type: string | undefined;
  for (const item of values) {
    if (item == null) continue;
    const itemType = typeof item;
    if (itemType === type) continue;
    if (type !== undefined || (itemType !== 'string' && itemType !== 'number' && itemType !== 'boolean')) return false;
    type = itemType;
  }
  return true;
}
