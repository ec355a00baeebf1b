import { invalidOption } from './messages.js';

/* The checks every option goes through: a failed one stops the app at startup, saying what to fix. */

export function check(ok: boolean, option: string, expected: string, got: unknown): asserts ok {
  if (!ok) throw new Error(invalidOption(option, expected, got));
}

export function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  check(isInt(value, 1, Number.MAX_SAFE_INTEGER), name, 'a positive integer', value);
  return value;
}

export function checkUrl(name: string, value: unknown): void {
  let ok: boolean;
  try {
    ok = typeof value === 'string' && ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    ok = false;
  }
  check(ok, name, 'an http:// or https:// URL', value);
}

export const isInt = (v: unknown, min: number, max: number): boolean =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
export const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
