/** Normalized span, whatever wire format it arrived in (OTLP protobuf/JSON, Jaeger thrift). */
export type AttributeValue = string | number | boolean | Array<string | number | boolean>;

export interface ReceivedSpan {
  traceId: string; // 32 lowercase hex chars
  spanId: string; // 16 lowercase hex chars
  parentSpanId?: string; // absent for roots
  name: string;
  kind?: string; // 'SERVER' | 'CLIENT' | 'INTERNAL' | 'PRODUCER' | 'CONSUMER' when known
  startTimeUs: number;
  durationUs: number;
  attributes: Record<string, AttributeValue>;
  status: { code: 'UNSET' | 'OK' | 'ERROR'; message?: string };
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  resource: Record<string, unknown>;
}

/** Collects spans and lets tests await them without sleeping. */
export class SpanSink {
  readonly spans: ReceivedSpan[] = [];
  /** Decode failures; surfaced in timeout messages so a broken decoder is not mistaken for "nothing sent". */
  readonly errors: string[] = [];
  private readonly listeners = new Set<() => void>();

  waitForSpans(count: number, timeoutMs = 5000): Promise<ReceivedSpan[]> {
    return this.waitUntil(
      () => this.spans.length >= count,
      timeoutMs,
      () => `expected ${count} span(s) within ${timeoutMs} ms, received ${this.spans.length}${this.describe()}`,
    ).then(() => [...this.spans]);
  }

  byName(name: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.name === name);
  }

  clear(): void {
    this.spans.length = 0;
    this.errors.length = 0;
  }

  protected addSpans(spans: ReceivedSpan[]): void {
    this.spans.push(...spans);
    this.notify();
  }

  protected addError(message: string): void {
    this.errors.push(message);
    this.notify();
  }

  protected notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves once `done()` holds, re-checked on every notify(). */
  protected waitUntil(done: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(why()));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  private describe(): string {
    const spans = this.spans.map((s) => `\n  - "${s.name}" trace=${s.traceId} span=${s.spanId}`).join('');
    const errors = this.errors.map((e) => `\n  ! ${e}`).join('');
    return (spans ? ':' + spans : '') + (errors ? '\ndecode errors:' + errors : '');
  }
}
