import { Inject, Injectable } from '@nestjs/common';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace';
import { toJaegerTraces } from '../export/jaeger-json.js';
import { renderWaterfall } from '../render/waterfall.js';
import { TraceService } from '../trace.service.js';

/** The in-memory exporter behind an app's SpanRecorder. */
export const RECORDED_SPANS = Symbol('nestjs-tracing:recorded-spans');

/**
 * The spans an app under test recorded, in the order they ended. Spans are here the
 * moment they end (a simple processor, no batching), so a test can read them right
 * after the request that made them has been answered.
 */
@Injectable()
export class SpanRecorder {
  constructor(
    @Inject(RECORDED_SPANS) private readonly exporter: InMemorySpanExporter,
    private readonly tracing: TraceService,
  ) {}

  /** Every span ended so far. */
  spans(): ReadableSpan[] {
    return this.exporter.getFinishedSpans();
  }

  /** The first span with this name; throws, listing the names there are, when there is none. */
  find(name: string): ReadableSpan {
    const found = this.spans().find((span) => span.name === name);
    if (!found) {
      const names = [...new Set(this.spans().map((span) => span.name))];
      throw new Error(`SpanRecorder: no span named "${name}"; recorded: ${names.join(', ') || 'none'}`);
    }
    return found;
  }

  findAll(name: string): ReadableSpan[] {
    return this.spans().filter((span) => span.name === name);
  }

  /** The spans whose parent is `parent`, in the order they ended. */
  childrenOf(parent: ReadableSpan): ReadableSpan[] {
    const { traceId, spanId } = parent.spanContext();
    return this.spans().filter(
      (span) => span.parentSpanContext?.spanId === spanId && span.spanContext().traceId === traceId,
    );
  }

  /** Every recorded trace drawn as `nestjs-tracing render` draws a trace file (no colours). */
  tree(): string {
    return renderWaterfall(toJaegerTraces(this.spans()));
  }

  /** Forgets the spans recorded so far. */
  reset(): void {
    this.exporter.reset();
  }

  /** Waits for every exporter of the app, the recorder and any other, to take the spans ended so far. */
  flush(): Promise<void> {
    return this.tracing.forceFlush();
  }
}
