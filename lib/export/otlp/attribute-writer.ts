import type { Attributes } from '@opentelemetry/api';
import { ProtoWriter } from './proto-writer.js';

/** Keys remembered: attribute keys are few and fixed in code; a flood of made-up keys restarts the memory. */
const MAX_KEYS = 1024;
/** Values remembered per key; a key that runs past this once (a path, an id) is not remembered again. */
const MAX_VALUES = 16;
/** Longer strings are written each time: few repeat, and copying them saves little. */
const MAX_REMEMBERED_LENGTH = 128;

interface KeyEntry {
  /** KeyValue.key with its tag and length. */
  readonly key: Uint8Array;
  /** Whole KeyValue messages (length first) for the primitive values seen with this key. */
  values: Map<unknown, Uint8Array> | undefined;
  /** The last of them used: most keys come with the same value span after span. */
  lastValue: unknown;
  lastPair: Uint8Array | undefined;
}
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/**
 * Writes attributes as repeated KeyValue, as the SDK's serializer does (strings, booleans,
 * integers as int64, other numbers as doubles, bytes, arrays, key-value lists). Each
 * key's own bytes are encoded once and copied, and so is each whole key-value pair whose
 * value keeps coming back (a method, a route, a status code): most attributes of most
 * spans are copies.
 */
export class AttributeWriter {
  private readonly keys = new Map<string, KeyEntry>();
  private readonly scratch = new ProtoWriter();

  constructor(private readonly w: ProtoWriter) {}

  /** Every own key of `attributes` as field `field` (a repeated KeyValue). */
  attributes(attributes: Attributes, field: number): void {
    const w = this.w;
    const tag = (field << 3) | 2;
    for (const key in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      const value = attributes[key];
      const entry = this.entry(key);
      w.varint32(tag);
      if (entry.lastPair !== undefined && entry.lastValue === value) {
        w.raw(entry.lastPair);
        continue;
      }
      const known = entry.values?.get(value);
      if (known !== undefined) {
        entry.lastValue = value;
        entry.lastPair = known;
        w.raw(known);
        continue;
      }
      const start = w.pos;
      const pair = w.begin(1);
      w.raw(entry.key);
      w.varint32(0x12); // KeyValue.value
      const body = w.begin(1);
      this.anyValue(value);
      w.end(body, 1);
      w.end(pair, 1);
      if (entry.values !== undefined && rememberable(value)) this.remember(entry, entry.values, value, start);
    }
  }

  anyValue(value: unknown): void {
    const w = this.w;
    switch (typeof value) {
      case 'string':
        w.varint32(0x0a);
        w.string(value);
        return;
      case 'boolean':
        w.varint32(0x10);
        w.varint32(value ? 1 : 0);
        return;
      case 'number':
        if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
          w.varint32(0x18);
          w.int64(value);
        } else {
          w.varint32(0x21);
          w.double(value);
        }
        return;
      case 'object':
        if (value === null) return;
        if (value instanceof Uint8Array) {
          w.varint32(0x3a);
          w.bytes(value);
        } else if (Array.isArray(value)) {
          w.varint32(0x2a);
          const list = w.begin(2);
          for (const item of value as unknown[]) {
            w.varint32(0x0a);
            const entry = w.begin(1);
            this.anyValue(item);
            w.end(entry, 1);
          }
          w.end(list, 2);
        } else {
          w.varint32(0x32);
          const list = w.begin(2);
          this.attributes(value as Attributes, 1);
          w.end(list, 2);
        }
        return;
      default:
      // undefined and the rest: an empty AnyValue, as the SDK writes it
    }
  }

  private entry(key: string): KeyEntry {
    let entry = this.keys.get(key);
    if (entry === undefined) {
      if (this.keys.size >= MAX_KEYS) this.keys.clear();
      const scratch = this.scratch;
      scratch.reset();
      scratch.varint32(0x0a); // KeyValue.key
      scratch.string(key);
      entry = { key: scratch.finish(), values: new Map(), lastValue: undefined, lastPair: undefined };
      this.keys.set(key, entry);
    }
    return entry;
  }

  private remember(entry: KeyEntry, values: Map<unknown, Uint8Array>, value: unknown, start: number): void {
    if (values.size >= MAX_VALUES) {
      // a value that varies: stop paying for copies that are never reused
      entry.values = undefined;
      entry.lastPair = undefined;
      return;
    }
    const pair = Uint8Array.prototype.slice.call(this.w.buffer, start, this.w.pos);
    values.set(value, pair);
    entry.lastValue = value;
    entry.lastPair = pair;
  }
}

function rememberable(value: unknown): boolean {
  const type = typeof value;
  return (
    type === 'number' || type === 'boolean' || (type === 'string' && (value as string).length <= MAX_REMEMBERED_LENGTH)
  );
}
