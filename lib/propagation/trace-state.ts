import type { TraceState } from '@opentelemetry/api';

/*
 * W3C Trace Context Level 1, §3.3 (tracestate), owned here because the OpenTelemetry JS
 * parser skips the members it cannot read and keeps the rest: the Recommendation wants an
 * invalid header discarded whole.
 *
 *   list        = list-member 0*31( OWS "," OWS list-member )
 *   list-member = key "=" value / OWS
 *   key         = simple-key / multi-tenant-key
 *   simple-key  = lcalpha 0*255( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
 *   multi-tenant-key = tenant-id "@" system-id
 *   tenant-id   = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
 *   system-id   = lcalpha 0*13( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
 *   value       = 0*255(chr) nblk-chr ; chr = %x20 / nblk-chr ; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
 */
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const MAX_MEMBERS = 32;
/** The length every vendor must propagate (§3.3.1.5); a longer valid header is truncated as that section says. */
const MAX_LENGTH = 512;
/** Entries longer than this are the first to go when truncating. */
const LARGE_ENTRY = 128;

type Entry = readonly [key: string, value: string];

export const isTraceStateKey = (key: string): boolean => KEY.test(key);
export const isTraceStateValue = (value: string): boolean => VALUE.test(value);

/**
 * The tracestate of one or more header fields (combined in order, as RFC 7230 §3.2.2
 * says), or undefined when there is none or it is invalid: a bad member, a bad key or
 * value, a repeated key or more than 32 members discards the whole header.
 */
export function parseTraceState(header: string | string[] | undefined): W3CTraceState | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header.join(',') : header;
  const entries: Entry[] = [];
  const seen = new Set<string>();
  for (const part of raw.split(',')) {
    const member = trimOws(part);
    if (member === '') continue; // empty and whitespace-only members are allowed
    if (entries.length === MAX_MEMBERS) return undefined;
    const equals = member.indexOf('=');
    if (equals <= 0) return undefined;
    const key = member.slice(0, equals);
    const value = member.slice(equals + 1);
    if (!KEY.test(key) || !VALUE.test(value) || seen.has(key)) return undefined;
    seen.add(key);
    entries.push([key, value]);
  }
  return entries.length > 0 ? new W3CTraceState(truncate(entries)) : undefined;
}

/** OWS is spaces and horizontal tabs only (RFC 7230 §3.2.3), not every character String#trim removes. */
export function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(start, end);
}

/**
 * Every span of a trace carries its tracestate to the exporter: past 512 characters whole
 * entries are removed, those over 128 characters first, then from the right (§3.3.1.5).
 */
function truncate(entries: Entry[]): Entry[] {
  let length = serializedLength(entries);
  if (length <= MAX_LENGTH) return entries;
  const kept = [...entries];
  for (let i = kept.length - 1; i >= 0 && length > MAX_LENGTH; i--) {
    if (entryLength(kept[i]!) <= LARGE_ENTRY) continue;
    length -= entryLength(kept[i]!) + 1;
    kept.splice(i, 1);
  }
  while (length > MAX_LENGTH && kept.length > 0) length -= entryLength(kept.pop()!) + 1;
  return kept;
}

const entryLength = ([key, value]: Entry): number => key.length + 1 + value.length;
const serializedLength = (entries: readonly Entry[]): number =>
  entries.reduce((sum, entry) => sum + entryLength(entry), 0) + Math.max(entries.length - 1, 0);

/** An immutable tracestate; a key set or updated moves to the left, as §3.5 requires. */
export class W3CTraceState implements TraceState {
  constructor(private readonly entries: readonly Entry[] = []) {}

  get(key: string): string | undefined {
    return this.entries.find(([k]) => k === key)?.[1];
  }

  /** An invalid key or value, or a 33rd member, leaves the state as it was. */
  set(key: string, value: string): W3CTraceState {
    if (!KEY.test(key) || !VALUE.test(value)) return this;
    const others = this.entries.filter(([k]) => k !== key);
    if (others.length >= MAX_MEMBERS) return this;
    return new W3CTraceState(truncate([[key, value], ...others]));
  }

  unset(key: string): W3CTraceState {
    const others = this.entries.filter(([k]) => k !== key);
    return others.length === this.entries.length ? this : new W3CTraceState(others);
  }

  serialize(): string {
    return this.entries.map(([key, value]) => `${key}=${value}`).join(',');
  }
}
