import type { AttributeValue } from '@opentelemetry/api';

/**
 * Turns any argument into something a span can hold, without ever throwing:
 * primitives and arrays of one primitive type as they are, the rest as JSON,
 * strings cut at `limit`. Returns undefined for values that should not be recorded.
 */
export function toAttributeValue(value: unknown, limit: number): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
      return cut(value, limit);
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return cut(value.toString(), limit);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (Array.isArray(value) && isHomogeneousPrimitiveArray(value)) {
    return value.map((v) => (typeof v === 'string' ? cut(v, limit) : v)) as AttributeValue;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value)) return `<Buffer ${value.length} bytes>`;
  return cut(safeJson(value), limit);
}

function isHomogeneousPrimitiveArray(values: unknown[]): boolean {
  if (values.length === 0) return true;
  const type = typeof values[0];
  if (type !== 'string' && type !== 'number' && type !== 'boolean') return false;
  return values.every((v) => typeof v === type);
}

/** JSON that survives cycles, BigInt and throwing getters or toJSON. */
function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === 'bigint') return v.toString();
        if (typeof v === 'object' && v !== null) {
          if (seen.has(v)) return '[Circular]';
          seen.add(v);
        }
        return v;
      }) ?? String(value)
    );
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return '[unserializable]';
    }
  }
}

function cut(text: string, limit: number): string {
  return text.length > limit ? text.slice(0, limit) : text;
}
