/*
 * When an OTLP export is tried again, as the OpenTelemetry exporters do it (so a collector
 * sees the same pacing from us as from them): up to 5 more attempts on a retryable answer,
 * 1 s apart growing by 1.5× with ±20% jitter, or after the collector's Retry-After, and
 * never past the export's deadline.
 */

const MAX_RETRIES = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const MULTIPLIER = 1.5;
const JITTER = 0.2;

/** HTTP statuses worth another attempt; the rest of 4xx/5xx fail the export at once. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Network errors worth another attempt. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

export function isRetryableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

/** Retry-After as milliseconds: seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number.parseInt(header, 10);
  if (Number.isInteger(seconds)) return seconds > 0 ? seconds * 1000 : 0;
  const at = new Date(header).getTime();
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before retry number `retry` (0-based), or undefined when no retry is left. */
export function backoffMs(retry: number, suggested: number | undefined): number | undefined {
  if (retry >= MAX_RETRIES) return undefined;
  if (suggested !== undefined) return suggested;
  const base = INITIAL_BACKOFF_MS * MULTIPLIER ** retry;
  return Math.max(0, Math.min(base * (1 + (Math.random() * 2 - 1) * JITTER), MAX_BACKOFF_MS));
}
