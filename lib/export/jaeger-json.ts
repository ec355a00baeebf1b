/*
 * Jaeger's own JSON trace form (the query API's `{ "data": [trace, ...] }`), which
 * Jaeger UI's "Upload JSON" loads entirely in the browser. Checked against
 * jaegertracing/jaeger-ui:
 * - packages/jaeger-ui/src/utils/readJsonFile.ts: a file holding `resourceSpans` (OTLP)
 *   is sent to the query service to convert, so it needs a running Jaeger; any other
 *   JSON is passed on as is.
 * - packages/jaeger-ui/src/components/SearchTracePage/FileLoader.tsx: accepts
 *   `{ data: [...] }`, `{ data: {...} }`, a bare array or a single trace, and hands each
 *   trace to transformTraceData.
 * - packages/jaeger-ui/src/model/transform-trace-data.ts: drops a trace without
 *   `traceID`; times are µs numbers; `processes[span.processID]` gives the service;
 *   the tree comes from `references` (CHILD_OF / FOLLOWS_FROM whose span is in the
 *   trace, else the span is a root); tags/logs/references may be absent.
 * We write `{ "data": [...] }` because it is what Jaeger itself serves and downloads.
 */
import { SpanKind, SpanStatusCode, type AttributeValue, type Attributes } from '@opentelemetry/api';
import { hrTimeToMicroseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

export interface JaegerTag {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64';
  value: string | boolean | number;
}

export interface JaegerReference {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}

export interface JaegerLog {
  timestamp: number;
  fields: JaegerTag[];
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JaegerReference[];
  flags: number;
  startTime: number;
  duration: number;
  tags: JaegerTag[];
  logs: JaegerLog[];
  processID: string;
  warnings: string[] | null;
}

export interface JaegerProcess {
  serviceName: string;
  tags: JaegerTag[];
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, JaegerProcess>;
  warnings: string[] | null;
}

const SPAN_KINDS: Partial<Record<SpanKind, string>> = {
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

export function toJaegerTraces(spans: ReadableSpan[]): JaegerTrace[] {
  // A one-span trace per span, so grouping and process ids come from mergeTraces alone.
  return mergeTraces([], spans.map(toSingleSpanTrace));
}

export function mergeTraces(existing: JaegerTrace[], incoming: JaegerTrace[]): JaegerTrace[] {
  const parts = new Map<string, JaegerTrace[]>();
  for (const trace of [...existing, ...incoming]) {
    const list = parts.get(trace.traceID) ?? [];
    list.push(trace);
    parts.set(trace.traceID, list);
  }
  return [...parts.entries()]
    .map(([traceID, list]) => mergeParts(traceID, list))
    .sort((a, b) => earliestStart(a) - earliestStart(b));
}

/** Accepts what Jaeger UI accepts: `{ data: [...] }`, `{ data: trace }`, an array or one trace. */
export function parseJaegerDocument(document: unknown): JaegerTrace[] {
  const data = isObject(document) && 'data' in document ? document.data : document;
  const traces = Array.isArray(data) ? data : [data];
  return traces.map((trace: unknown) => {
    if (!isTraceLike(trace)) throw new Error('not a Jaeger JSON trace document');
    // Jaeger UI tolerates spans without tags, logs or references; so do we.
    const spans = trace.spans.map(
      (span) => ({ tags: [], logs: [], references: [], warnings: null, ...span }) as JaegerSpan,
    );
    return { warnings: null, ...trace, spans };
  });
}

function mergeParts(traceID: string, list: JaegerTrace[]): JaegerTrace {
  const processes: Record<string, JaegerProcess> = {};
  const idByProcess = new Map<string, string>();
  const idFor = (process: JaegerProcess): string => {
    const key = JSON.stringify([process.serviceName, [...process.tags].sort((a, b) => a.key.localeCompare(b.key))]);
    let id = idByProcess.get(key);
    if (!id) {
      id = `p${idByProcess.size + 1}`;
      idByProcess.set(key, id);
      processes[id] = process;
    }
    return id;
  };
  const spans = new Map<string, JaegerSpan>();
  for (const part of list) {
    for (const span of part.spans) {
      const process = part.processes[span.processID] ?? { serviceName: 'unknown_service', tags: [] };
      spans.set(span.spanID, { ...span, processID: idFor(process) });
    }
  }
  const sorted = [...spans.values()].sort((a, b) => a.startTime - b.startTime);
  return { traceID, spans: sorted, processes, warnings: null };
}

function earliestStart(trace: JaegerTrace): number {
  return trace.spans.reduce((min, span) => Math.min(min, span.startTime), Infinity);
}

function toSingleSpanTrace(span: ReadableSpan): JaegerTrace {
  const { traceId, spanId, traceFlags } = span.spanContext();
  const parentId = span.parentSpanContext?.spanId;
  const { 'service.name': serviceName, ...resourceAttributes } = span.resource.attributes;
  const jaegerSpan: JaegerSpan = {
    traceID: traceId,
    spanID: spanId,
    operationName: span.name,
    references: parentId ? [{ refType: 'CHILD_OF', traceID: traceId, spanID: parentId }] : [],
    flags: traceFlags,
    startTime: Math.round(hrTimeToMicroseconds(span.startTime)),
    duration: Math.round(hrTimeToMicroseconds(span.duration)),
    tags: [...toTags(span.attributes), ...jaegerSpanTags(span)],
    logs: span.events.map((event) => ({
      timestamp: Math.round(hrTimeToMicroseconds(event.time)),
      fields: [toTag('event', event.name), ...toTags(event.attributes ?? {})],
    })),
    processID: 'p1',
    warnings: null,
  };
  const process = {
    serviceName: typeof serviceName === 'string' ? serviceName : 'unknown_service',
    tags: toTags(resourceAttributes),
  };
  return { traceID: traceId, spans: [jaegerSpan], processes: { p1: process }, warnings: null };
}

// The tags Jaeger's own OTLP translation adds, so the UI shows kind, status and errors.
function jaegerSpanTags(span: ReadableSpan): JaegerTag[] {
  const tags: JaegerTag[] = [];
  const kind = SPAN_KINDS[span.kind];
  if (kind) tags.push(toTag('span.kind', kind));
  tags.push(toTag('otel.scope.name', span.instrumentationScope.name));
  if (span.instrumentationScope.version) {
    tags.push(toTag('otel.scope.version', span.instrumentationScope.version));
  }
  const { code, message } = span.status;
  if (code !== SpanStatusCode.UNSET) {
    tags.push(toTag('otel.status_code', code === SpanStatusCode.ERROR ? 'ERROR' : 'OK'));
  }
  if (message) tags.push(toTag('otel.status_description', message));
  if (code === SpanStatusCode.ERROR) tags.push(toTag('error', true));
  return tags;
}

function toTags(attributes: Attributes): JaegerTag[] {
  return Object.entries(attributes).flatMap(([key, value]) => (value == null ? [] : [toTag(key, value)]));
}

function toTag(key: string, value: AttributeValue): JaegerTag {
  if (typeof value === 'string') return { key, type: 'string', value };
  if (typeof value === 'boolean') return { key, type: 'bool', value };
  if (typeof value === 'number') {
    // NaN and Infinity have no JSON number form.
    if (!Number.isFinite(value)) return { key, type: 'string', value: String(value) };
    return { key, type: Number.isInteger(value) ? 'int64' : 'float64', value };
  }
  return { key, type: 'string', value: JSON.stringify(value) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

type TraceLike = Omit<JaegerTrace, 'spans' | 'warnings'> & { spans: Partial<JaegerSpan>[] };

function isTraceLike(value: unknown): value is TraceLike {
  return (
    isObject(value) &&
    typeof value.traceID === 'string' &&
    isObject(value.processes) &&
    Array.isArray(value.spans) &&
    value.spans.every(
      (span) =>
        isObject(span) &&
        typeof span.spanID === 'string' &&
        typeof span.operationName === 'string' &&
        typeof span.processID === 'string' &&
        typeof span.startTime === 'number' &&
        typeof span.duration === 'number',
    )
  );
}
