import { randomFillSync } from 'node:crypto';

/*
 * Trace and span ids are drawn as 32-bit words from a pool filled by the system's CSPRNG
 * (one native call per 1024 spans instead of per id). A span keeps its id's words, which
 * the OTLP encoder writes as they are, and shows hex (made from a byte table) only when
 * something reads it. An all-zero id is invalid in W3C trace context: it is drawn again.
 */

/** One app's supply of random words (each provider owns one, so no state is shared between apps). */
export class IdPool {
  private readonly pool = new Uint32Array(2048);
  private next = this.pool.length;

  traceWords(): number[] {
    const a = this.word();
    const b = this.word();
    const c = this.word();
    const d = this.word();
    if ((a | b | c | d) === 0) return this.traceWords();
    const words = [0.5, 0.5, 0.5, 0.5]; // a double array whatever the words, so every id array has one element kind
    words[0] = a;
    words[1] = b;
    words[2] = c;
    words[3] = d;
    return words;
  }

  spanWords(): number[] {
    const a = this.word();
    const b = this.word();
    if ((a | b) === 0) return this.spanWords();
    const words = [0.5, 0.5];
    words[0] = a;
    words[1] = b;
    return words;
  }

  private word(): number {
    if (this.next === this.pool.length) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++] as number;
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** One word as 8 lowercase hex digits. */
function hex8(w: number): string {
  return (HEX[w >>> 24] as string) + HEX[(w >>> 16) & 0xff] + HEX[(w >>> 8) & 0xff] + HEX[w & 0xff];
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
