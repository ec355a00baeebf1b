import { randomFillSync } from 'node:crypto';

/*
 * Trace and span ids are drawn as 32-bit words from one pool filled by the system's
 * CSPRNG (one native call per 1024 spans instead of per id). A span keeps its id's words,
 * which the OTLP encoder writes as they are, and the hex string the API shows, made from a
 * byte table. An all-zero id is invalid in W3C trace context: its words are drawn again.
 */

const pool = new Uint32Array(2048);
let next = pool.length;

function word(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++] as number;
}

const HEX: string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** One word as 8 lowercase hex digits. */
function hex8(w: number): string {
  return (HEX[w >>> 24] as string) + HEX[(w >>> 16) & 0xff] + HEX[(w >>> 8) & 0xff] + HEX[w & 0xff];
}

export function newTraceWords(): number[] {
  const a = word();
  const b = word();
  const c = word();
  const d = word();
  if ((a | b | c | d) === 0) return newTraceWords();
  const words = [0.5, 0.5, 0.5, 0.5]; // a double array whatever the words, so every id array has one element kind
  words[0] = a;
  words[1] = b;
  words[2] = c;
  words[3] = d;
  return words;
}

export function newSpanWords(): number[] {
  const a = word();
  const b = word();
  if ((a | b) === 0) return newSpanWords();
  const words = [0.5, 0.5];
  words[0] = a;
  words[1] = b;
  return words;
}

/** An id's hex form, as the API shows it. */
export function hexOf(words: number[]): string {
  const a = hex8(words[0] as number) + hex8(words[1] as number);
  return words.length === 2 ? a : a + hex8(words[2] as number) + hex8(words[3] as number);
}

/** The words of an id the API gave as hex (a remote parent's): 8 digits a word. */
export function wordsOf(hex: string): number[] {
  const words = hex.length === 16 ? [0.5, 0.5] : [0.5, 0.5, 0.5, 0.5];
  for (let i = 0; i < words.length; i++) words[i] = parseInt(hex.substring(i * 8, i * 8 + 8), 16) >>> 0;
  return words;
}
