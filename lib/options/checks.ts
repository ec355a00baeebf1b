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
  check(isHttpUrl(value), name, 'an http:// or https:// URL', value);
}

export function isHttpUrl(value: unknown): boolean {
  try {
    return typeof value === 'string' && ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export function checkHeaders(name: string, headers: unknown): void {
  const ok =
    headers === undefined ||
    (isPlainObject(headers) && Object.values(headers as object).every((v) => typeof v === 'string'));
  check(ok, name, 'an object of header names to string values', headers);
}

export const isInt = (v: unknown, min: number, max: number): boolean =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
export const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
