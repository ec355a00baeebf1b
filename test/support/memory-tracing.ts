import type { INestApplication } from '@nestjs/common';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { TraceService } from 'nestjs-tracing';

/** Spans an app exported so far: flushes its batch processor first. */
export async function exportedSpans(app: INestApplication, exporter: InMemorySpanExporter): Promise<ReadableSpan[]> {
  await app.get(TraceService).forceFlush();
  return exporter.getFinishedSpans();
}

export const parentId = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
export const spanId = (span: ReadableSpan): string => span.spanContext().spanId;
export const traceId = (span: ReadableSpan): string => span.spanContext().traceId;

export function byName(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.find((s) => s.name === name);
  if (!found) throw new Error(`no span named "${name}" among: ${spans.map((s) => s.name).join(', ')}`);
  return found;
}

export function childrenOf(spans: ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans.filter((s) => parentId(s) === spanId(parent) && traceId(s) === traceId(parent));
}

export { InMemorySpanExporter };
