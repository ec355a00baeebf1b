import type { AttributeValue } from '@opentelemetry/api';

/** Deeper than this, a nested object is written as "[Too deep]". */
const MAX_DEPTH = 32;

/**
 * Turns any argument into something a span can hold, without ever throwing:
 * primitives and arrays of one primitive type as they are, the rest as JSON,
 * strings cut at `limit` characters and arrays cut where their items add up to `limit`.
 * The JSON is written with a budget of `limit` characters, so a huge object costs no
 * more than a small one. Returns undefined for values that should not be recorded
 * (undefined, functions, symbols).
 */
export function toAttributeValue(value: unknown, limit: number): AttributeValue | undefined {
  try {
    return convert(value, limit);
  } catch {
    return '[unserializable]';
  }
}

function convert(value: unknown, limit: number): AttributeValue | undefined {
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
  if (Array.isArray(value)) {
    const primitives = primitiveArray(value, limit);
    if (primitives) return primitives;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  const binary = describeBinary(value);
  if (binary) return binary;
  return boundedJson(value, limit);
}

/** The array cut to `limit` characters' worth of items, if its items are all strings, all numbers or all booleans. */
function primitiveArray(values: unknown[], limit: number): AttributeValue | undefined {
  const kept: Array<string | number | boolean> = [];
  const type = values.length > 0 ? typeof values[0] : 'string';
  if (type !== 'string' && type !== 'number' && type !== 'boolean') return undefined;
  let used = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== type) return undefined;
    if (used >= limit) break;
    const item = typeof v === 'string' ? cut(v, limit - used) : (v as number | boolean);
    used += typeof item === 'string' ? Math.max(item.length, 1) : String(item).length;
    kept.push(item);
  }
  return kept as AttributeValue;
}

function describeBinary(value: unknown): string | undefined {
  if (Buffer.isBuffer(value)) return `<Buffer ${value.length} bytes>`;
  if (ArrayBuffer.isView(value)) return `<${value.constructor?.name ?? 'TypedArray'} ${value.byteLength} bytes>`;
  if (value instanceof ArrayBuffer) return `<ArrayBuffer ${value.byteLength} bytes>`;
  return undefined;
}

/** Thrown to stop writing once the budget is spent. */
/** Thrown to stop writing once the budget is spent; caught below, never escapes. */
const FULL = new Error('attribute value budget spent');

/**
 * JSON.stringify's output for ordinary data, written until `limit` characters: cycles
 * become "[Circular]", BigInt a string, Buffers a size, and a getter or toJSON that
 * throws "[unserializable]" in place of that one value.
 */
function boundedJson(value: unknown, limit: number): string {
  let out = '';
  const ancestors = new Set<object>();
  const write = (text: string): void => {
    out += text;
    if (out.length > limit) throw FULL;
  };

  const writeValue = (v: unknown, key: string, depth: number): boolean => {
    if (
      v !== null &&
      typeof v === 'object' &&
      typeof (v as { toJSON?: unknown }).toJSON === 'function' &&
      !describeBinary(v)
    ) {
      v = (v as { toJSON(key: string): unknown }).toJSON(key);
    }
    switch (typeof v) {
      case 'string':
        write(JSON.stringify(v.length > limit ? v.slice(0, limit) : v));
        return true;
      case 'number':
        write(Number.isFinite(v) ? String(v) : 'null');
        return true;
      case 'boolean':
        write(String(v));
        return true;
      case 'bigint':
        write(`"${v.toString()}"`);
        return true;
      case 'undefined':
      case 'function':
      case 'symbol':
        return false;
    }
    if (v === null) {
      write('null');
      return true;
    }
    const binary = describeBinary(v);
    if (binary) {
      write(JSON.stringify(binary));
      return true;
    }
    const object = v as object;
    if (ancestors.has(object)) {
      write('"[Circular]"');
      return true;
    }
    if (depth >= MAX_DEPTH) {
      write('"[Too deep]"');
      return true;
    }
    ancestors.add(object);
    try {
      if (Array.isArray(object)) {
        write('[');
        for (let i = 0; i < object.length; i++) {
          if (i > 0) write(',');
          if (!writeGuarded(() => object[i] as unknown, String(i), depth + 1)) write('null');
        }
        write(']');
      } else {
        write('{');
        let first = true;
        for (const k of Object.keys(object)) {
          const mark = out.length;
          write(`${first ? '' : ','}${JSON.stringify(k)}:`);
          if (writeGuarded(() => (object as Record<string, unknown>)[k], k, depth + 1)) first = false;
          else out = out.slice(0, mark); // skipped, as JSON skips undefined and functions
        }
        write('}');
      }
    } finally {
      ancestors.delete(object);
    }
    return true;
  };

  /** One value; a getter, toJSON or proxy trap that throws spoils only that value. */
  const writeGuarded = (read: () => unknown, key: string, depth: number): boolean => {
    const mark = out.length;
    try {
      return writeValue(read(), key, depth);
    } catch (error) {
      if (error === FULL) throw error;
      out = out.slice(0, mark);
      write('"[unserializable]"');
      return true;
    }
  };

  try {
    if (!writeGuarded(() => value, '', 0)) return String(value);
  } catch (error) {
    if (error !== FULL) throw error;
  }
  return cut(out, limit);
}

function cut(text: string, limit: number): string {
  return text.length > limit ? text.slice(0, limit) : text;
}
