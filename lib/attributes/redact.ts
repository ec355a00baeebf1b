import type { AttributeValue } from '@opentelemetry/api';

export const REDACTED = '[REDACTED]';

export function isRedacted(key: string, patterns: readonly RegExp[]): boolean {
  for (const pattern of patterns) if (pattern.test(key)) return true;
  return false;
}

export function redactValue(key: string, value: AttributeValue, patterns: readonly RegExp[]): AttributeValue {
  return isRedacted(key, patterns) ? REDACTED : value;
}
