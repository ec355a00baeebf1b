import type { Context, Tracer, TracerOptions, TracerProvider } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { IdPool } from './ids.js';
import type { RecordLimits } from './limits.js';
import { RecordTracer, type TracerHome } from './record-tracer.js';
import type { SpanRecord } from './span-record.js';

export interface RecordProviderSettings {
  resource: Resource;
  /** Share of new traces recorded, 0..1 (a continued trace follows its parent). */
  sampleRatio: number;
  limits: RecordLimits;
  /**
   * Run in order on every sampled span: the user's own and the exporters' batchers. As in
   * the SDK, what a processor throws reaches the caller of startSpan() or end(); the
   * library's own spans are started and ended behind guards that report it.
   */
  processors: SpanProcessor[];
}

/**
 * The app's TracerProvider when no SDK is preloaded: tracers per instrumentation scope
 * (as the SDK keys them), the root sampling decision, and the processors each sampled
 * span passes through as it starts, ends and is flushed.
 */
export class RecordProvider implements TracerProvider, TracerHome {
  readonly resource: Resource;
  readonly limits: RecordLimits;
  readonly ids = new IdPool();
  private readonly processors: SpanProcessor[];
  private readonly tracers = new Map<string, RecordTracer>();
  private readonly upperBound: number;

  constructor(settings: RecordProviderSettings) {
    this.resource = settings.resource;
    this.limits = settings.limits;
    this.processors = settings.processors;
    const ratio = settings.sampleRatio;
    this.upperBound = ratio >= 1 ? Infinity : Math.floor(Math.max(0, ratio) * 0xffffffff);
  }

  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    const key = `${name}@${version ?? ''}:${options?.schemaUrl ?? ''}`;
    let tracer = this.tracers.get(key);
    if (tracer === undefined) {
      tracer = new RecordTracer({ name, version, schemaUrl: options?.schemaUrl }, this);
      this.tracers.set(key, tracer);
    }
    return tracer;
  }

  /** As TraceIdRatioBasedSampler: the XOR of the id's four 32-bit words, below the ratio's share of 2^32. */
  sampledRoot(traceWords: number[]): boolean {
    if (this.upperBound === Infinity) return true;
    let digest = 0;
    for (const w of traceWords) digest ^= w;
    return digest >>> 0 < this.upperBound;
  }

  started(record: SpanRecord, parent: Context): void {
    for (const processor of this.processors) processor.onStart(record, parent);
  }

  ending(record: SpanRecord): void {
    for (const processor of this.processors) processor.onEnding?.(record);
  }

  ended(record: SpanRecord): void {
    for (const processor of this.processors) processor.onEnd(record);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((processor) => processor.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((processor) => processor.shutdown()));
  }
}
