import { performance } from 'node:perf_hooks';
import type { HrTime, TimeInput } from '@opentelemetry/api';

/*
 * Span times are whole nanoseconds since ORIGIN_MS (the process's time origin, cut to the
 * millisecond), held in a plain number: exact for 104 days of uptime and cheap to take,
 * compare and subtract. They become Unix nanoseconds only when a span is encoded or read
 * as a ReadableSpan. Like the SDK's hrTime(), the clock is the monotonic one anchored at
 * the time origin, so a child never starts before its parent.
 */

const ORIGIN_MS = Math.floor(performance.timeOrigin);
const FRACTION_MS = performance.timeOrigin - ORIGIN_MS;
const TWO_32 = 0x100000000;
/** ORIGIN_MS in Unix ns, as the two 32-bit halves a fixed64 is written in. */
const ORIGIN_NS = BigInt(ORIGIN_MS) * 1_000_000n;
const ORIGIN_LO = Number(ORIGIN_NS & 0xffffffffn);
const ORIGIN_HI = Number(ORIGIN_NS >> 32n);

export function nowNs(): number {
  return Math.round((performance.now() + FRACTION_MS) * 1e6);
}

/** A time the API was given (epoch ms, a performance.now() reading, a Date or an HrTime) on this clock. */
export function toNs(time: TimeInput): number {
  if (typeof time === 'number') {
    // as the SDK reads a number: up to now it is a performance.now() reading, else epoch ms
    return time <= performance.now() ? Math.round((time + FRACTION_MS) * 1e6) : Math.round((time - ORIGIN_MS) * 1e6);
  }
  if (time instanceof Date) return Math.round((time.getTime() - ORIGIN_MS) * 1e6);
  return (time[0] * 1000 - ORIGIN_MS) * 1e6 + time[1];
}

export function isTimeInput(value: unknown): value is TimeInput {
  return (
    typeof value === 'number' ||
    value instanceof Date ||
    (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number')
  );
}

export function toHrTime(ns: number): HrTime {
  const total = (ORIGIN_MS % 1000) * 1e6 + ns;
  const seconds = Math.floor(total / 1e9);
  return [Math.floor(ORIGIN_MS / 1000) + seconds, total - seconds * 1e9];
}

/** Writes `ns` as Unix nanoseconds, a little-endian fixed64, at `pos`. */
export function writeUnixNano(buffer: Uint8Array, pos: number, ns: number): void {
  let low: number;
  let high: number;
  if (ns >= 0 && ns < Number.MAX_SAFE_INTEGER) {
    high = Math.floor(ns / TWO_32);
    low = ORIGIN_LO + (ns - high * TWO_32);
    high += ORIGIN_HI;
    if (low >= TWO_32) {
      low -= TWO_32;
      high++;
    }
  } else {
    // a time given from before the process started, or absurdly late: rare, so exact and slow
    const unix = BigInt.asUintN(64, ORIGIN_NS + BigInt(Math.round(ns)));
    low = Number(unix & 0xffffffffn);
    high = Number(unix >> 32n);
  }
  buffer[pos] = low;
  buffer[pos + 1] = low >>> 8;
  buffer[pos + 2] = low >>> 16;
  buffer[pos + 3] = low >>> 24;
  buffer[pos + 4] = high;
  buffer[pos + 5] = high >>> 8;
  buffer[pos + 6] = high >>> 16;
  buffer[pos + 7] = high >>> 24;
}
