import { context, SpanKind, SpanStatusCode, trace, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  mergeTraces,
  parseJaegerDocument,
  toJaegerTraces,
  type JaegerSpan,
  type JaegerTrace,
} from '../../lib/export/jaeger-json.js';

function recorder(attributes: Record<string, string>) {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes(attributes),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  return { memory, tracer: provider.getTracer('t', '1.2.3') };
}

const EPOCH_S = Date.UTC(2026, 0, 1) / 1000;
const EPOCH_US = EPOCH_S * 1e6;
/** HrTime rather than Date: Dates stop at milliseconds. */
const at = (ms: number): HrTime => [EPOCH_S + Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

function recordGatewayTrace() {
  const { memory, tracer } = recorder({ 'service.name': 'gateway', 'host.name': 'box-1' });
  const root = tracer.startSpan('GET /orders', {
    kind: SpanKind.SERVER,
    startTime: at(0),
    attributes: { 'http.status_code': 500, ratio: 0.25, cached: false, ids: [1, 2], route: '/orders' },
  });
  const child = tracer.startSpan('load order', { startTime: at(2) }, trace.setSpan(context.active(), root));
  child.addEvent('cache miss', { key: 'order:1', attempt: 2 }, at(3));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'db down' });
  child.end(at(12.5));
  root.setStatus({ code: SpanStatusCode.OK });
  root.end(at(20));
  const [childSpan, rootSpan] = memory.getFinishedSpans();
  return { spans: memory.getFinishedSpans(), root: rootSpan!, child: childSpan! };
}

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key);

describe('toJaegerTraces', () => {
  it('maps one trace with parent references, µs times, typed tags, logs and the process', () => {
    const { spans, root, child } = recordGatewayTrace();
    const traces = toJaegerTraces(spans);

    expect(traces).toHaveLength(1);
    const [jaeger] = traces as [JaegerTrace];
    const traceId = root.spanContext().traceId;
    expect(jaeger.traceID).toBe(traceId);
    expect(jaeger.warnings).toBeNull();
    expect(jaeger.processes).toEqual({
      p1: { serviceName: 'gateway', tags: [{ key: 'host.name', type: 'string', value: 'box-1' }] },
    });
    // Sorted by start time: the root first.
    const [rootJson, childJson] = jaeger.spans as [JaegerSpan, JaegerSpan];
    expect(rootJson).toMatchObject({
      traceID: traceId,
      spanID: root.spanContext().spanId,
      operationName: 'GET /orders',
      references: [],
      flags: 1,
      startTime: EPOCH_US,
      duration: 20_000,
      logs: [],
      processID: 'p1',
      warnings: null,
    });
    expect(rootJson.tags).toEqual([
      { key: 'http.status_code', type: 'int64', value: 500 },
      { key: 'ratio', type: 'float64', value: 0.25 },
      { key: 'cached', type: 'bool', value: false },
      { key: 'ids', type: 'string', value: '[1,2]' },
      { key: 'route', type: 'string', value: '/orders' },
      { key: 'span.kind', type: 'string', value: 'server' },
      { key: 'otel.scope.name', type: 'string', value: 't' },
      { key: 'otel.scope.version', type: 'string', value: '1.2.3' },
      { key: 'otel.status_code', type: 'string', value: 'OK' },
    ]);

    expect(childJson.references).toEqual([
      { refType: 'CHILD_OF', traceID: traceId, spanID: root.spanContext().spanId },
    ]);
    expect(childJson.spanID).toBe(child.spanContext().spanId);
    expect(childJson.startTime).toBe(EPOCH_US + 2000);
    expect(childJson.duration).toBe(10_500);
    expect(Number.isInteger(childJson.startTime) && Number.isInteger(childJson.duration)).toBe(true);
    expect(childJson.logs).toEqual([
      {
        timestamp: EPOCH_US + 3000,
        fields: [
          { key: 'event', type: 'string', value: 'cache miss' },
          { key: 'key', type: 'string', value: 'order:1' },
          { key: 'attempt', type: 'int64', value: 2 },
        ],
      },
    ]);
    // INTERNAL has no span.kind tag; ERROR adds status and error tags.
    expect(tag(childJson, 'span.kind')).toBeUndefined();
    expect(tag(childJson, 'otel.status_code')).toEqual({ key: 'otel.status_code', type: 'string', value: 'ERROR' });
    expect(tag(childJson, 'otel.status_description')).toEqual({
      key: 'otel.status_description',
      type: 'string',
      value: 'db down',
    });
    expect(tag(childJson, 'error')).toEqual({ key: 'error', type: 'bool', value: true });
    expect(tag(rootJson, 'error')).toBeUndefined();
  });

  it('groups spans by trace and gives each distinct process of a trace its own id', () => {
    const gateway = recorder({ 'service.name': 'gateway' });
    const orders = recorder({ 'service.name': 'orders' });
    const anonymous = recorder({ region: 'eu' });
    const root = gateway.tracer.startSpan('GET /orders', { startTime: at(0) });
    const remote = orders.tracer.startSpan('handle', { startTime: at(1) }, trace.setSpan(context.active(), root));
    const other = anonymous.tracer.startSpan('cron', { startTime: at(5) });
    [remote, root, other].forEach((span) => span.end(at(10)));

    const traces = toJaegerTraces([
      ...orders.memory.getFinishedSpans(),
      ...anonymous.memory.getFinishedSpans(),
      ...gateway.memory.getFinishedSpans(),
    ]);

    expect(traces.map((t) => t.traceID)).toEqual([root.spanContext().traceId, other.spanContext().traceId]);
    const [first, second] = traces as [JaegerTrace, JaegerTrace];
    expect(first.processes).toEqual({
      p1: { serviceName: 'orders', tags: [] },
      p2: { serviceName: 'gateway', tags: [] },
    });
    expect(first.spans.map((s) => [s.operationName, s.processID])).toEqual([
      ['GET /orders', 'p2'],
      ['handle', 'p1'],
    ]);
    expect(second.processes).toEqual({
      p1: { serviceName: 'unknown_service', tags: [{ key: 'region', type: 'string', value: 'eu' }] },
    });
  });
});

function fragment(traceID: string, spanID: string, startTime: number, process: string): JaegerTrace {
  const span: JaegerSpan = {
    traceID,
    spanID,
    operationName: spanID,
    references: [],
    flags: 1,
    startTime,
    duration: 1,
    tags: [],
    logs: [],
    processID: 'p1',
    warnings: null,
  };
  return { traceID, spans: [span], processes: { p1: { serviceName: process, tags: [] } }, warnings: null };
}

describe('mergeTraces', () => {
  it('keeps one entry per trace, remaps process ids and drops duplicate spans', () => {
    const existing = [fragment('b', 'b1', 50, 'gateway'), fragment('a', 'a1', 10, 'gateway')];
    const incoming = [
      fragment('a', 'a2', 5, 'orders'),
      fragment('a', 'a1', 10, 'gateway'),
      fragment('b', 'b2', 60, 'gateway'),
    ];

    const merged = mergeTraces(existing, incoming);

    expect(merged.map((t) => t.traceID)).toEqual(['a', 'b']);
    const [a, b] = merged as [JaegerTrace, JaegerTrace];
    expect(a.spans.map((s) => [s.spanID, s.processID])).toEqual([
      ['a2', 'p2'],
      ['a1', 'p1'],
    ]);
    expect(a.processes).toEqual({ p1: { serviceName: 'gateway', tags: [] }, p2: { serviceName: 'orders', tags: [] } });
    expect(b.spans.map((s) => s.processID)).toEqual(['p1', 'p1']);
    expect(Object.keys(b.processes)).toEqual(['p1']);
  });

  it('tells processes of one service apart by their tags', () => {
    const one = fragment('a', 'a1', 1, 'gateway');
    const two = fragment('a', 'a2', 2, 'gateway');
    two.processes.p1!.tags = [{ key: 'host.name', type: 'string', value: 'box-2' }];
    const merged = mergeTraces([one], [two]);
    expect(Object.keys(merged[0]!.processes)).toEqual(['p1', 'p2']);
  });
});

describe('parseJaegerDocument', () => {
  const t = fragment('a', 'a1', 1, 'gateway');

  it('accepts the forms Jaeger UI accepts', () => {
    expect(parseJaegerDocument({ data: [t] })).toEqual([t]);
    expect(parseJaegerDocument({ data: t })).toEqual([t]);
    expect(parseJaegerDocument([t])).toEqual([t]);
    expect(parseJaegerDocument(t)).toEqual([t]);
  });

  it('rejects anything else', () => {
    expect(() => parseJaegerDocument({ data: [{ spans: [] }] })).toThrow('not a Jaeger JSON trace document');
    expect(() => parseJaegerDocument(42)).toThrow();
  });
});
