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

export const named = (name: string) => (spans: ReadableSpan[]) => spans.some((s) => s.name === name);
export const countOf = (name: string, n: number) => (spans: ReadableSpan[]) =>
  spans.filter((s) => s.name === name).length >= n;
export const inTrace = (spans: ReadableSpan[], id: string) => spans.filter((s) => traceId(s) === id);

/** The one span named `name`; throws when there are none or several. */
export function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1)
    throw new Error(`expected one "${name}", got ${found.length} among: ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

export const hrMs = ([s, ns]: [number, number]): number => s * 1e3 + ns / 1e6;
