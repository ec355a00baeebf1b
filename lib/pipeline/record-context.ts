import type { SpanContext, TraceState } from '@opentelemetry/api';
import { hexOf, wordsOf } from './ids.js';

/**
 * A trace's id as the spans of one process share it: its 32-bit words (what the encoder
 * writes) and its hex form (what the API shows), each made from the other only when first
 * asked for. A new trace starts with words; one continued from a carrier with hex.
 */
export class TraceIdentity {
  private wordForm?: number[];
  private hexForm?: string;

  static fromWords(words: number[]): TraceIdentity {
    const identity = new TraceIdentity();
    identity.wordForm = words;
    return identity;
  }

  static fromHex(hex: string): TraceIdentity {
    const identity = new TraceIdentity();
    identity.hexForm = hex;
    return identity;
  }

  get words(): number[] {
    return (this.wordForm ??= wordsOf(this.hexForm as string));
  }

  get hex(): string {
    return (this.hexForm ??= hexOf(this.wordForm as number[]));
  }
}

/**
 * The SpanContext of a span this pipeline started (sampled or not). Its ids are turned into
 * hex only when something reads them (a propagator, a log line, an exporter other than
 * OTLP): most spans are only ever encoded, from their words.
 */
export class RecordContext implements SpanContext {
  private spanHex?: string;

  constructor(
    readonly trace: TraceIdentity,
    readonly words: number[],
    readonly traceFlags: number,
    readonly traceState: TraceState | undefined,
  ) {}

  get traceId(): string {
    return this.trace.hex;
  }

  get spanId(): string {
    return (this.spanHex ??= hexOf(this.words));
  }
}
