import { request } from 'node:http';
import { context, trace, SpanKind, SpanStatusCode, type SpanContext, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JaegerExporter } from '@opentelemetry/exporter-jaeger';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { startJaegerHttpReceiver, startJaegerUdpReceiver } from '../support/jaeger-receiver.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import type { ReceivedSpan } from '../support/received-span.js';

type OtlpConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;

const ATTRIBUTES = { 'app.str': 'a', 'app.int': 42, 'app.double': 1.5, 'app.bool': true, 'app.list': ['x', 'y'] };

/** Wraps the exporter so tests can see each export's outcome (SimpleSpanProcessor swallows it). */
function setup(exporter: SpanExporter) {
  const results: ExportResult[] = [];
  const recording: SpanExporter = {
    export: (spans, done) => exporter.export(spans, (r) => (results.push(r), done(r))),
    shutdown: () => exporter.shutdown(),
  };
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'receiver-test', 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: recording })],
  });
  return { provider, tracer: provider.getTracer('receivers-spec', '1.0.0'), results };
}

function emitTrace(tracer: Tracer): { parent: SpanContext; child: SpanContext } {
  const parent = tracer.startSpan('GET /orders', { kind: SpanKind.SERVER });
  const child = tracer.startSpan(
    'load-order',
    { kind: SpanKind.CLIENT, attributes: ATTRIBUTES },
    trace.setSpan(context.active(), parent),
  );
  child.addEvent('cache.miss', { 'cache.key': 'order:42' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'db down' });
  child.end();
  parent.end();
  return { parent: parent.spanContext(), child: child.spanContext() };
}

/** What every wire format must preserve; returns the child for format-specific checks. */
function expectCommon(spans: ReceivedSpan[], ids: { parent: SpanContext; child: SpanContext }): ReceivedSpan {
  expect(spans).toHaveLength(2);
  const parent = spans.find((s) => s.name === 'GET /orders')!;
  const child = spans.find((s) => s.name === 'load-order')!;
  expect(parent).toBeDefined();
  expect(child).toBeDefined();
  expect(parent).toMatchObject({ traceId: ids.parent.traceId, spanId: ids.parent.spanId, kind: 'SERVER' });
  expect(parent.parentSpanId).toBeUndefined();
  expect(parent.status).toEqual({ code: 'UNSET' });
  expect(child).toMatchObject({ traceId: ids.parent.traceId, spanId: ids.child.spanId, parentSpanId: parent.spanId });
  expect(child.kind).toBe('CLIENT');
  expect(child.status).toEqual({ code: 'ERROR', message: 'db down' });
  expect(child.events).toEqual([{ name: 'cache.miss', attributes: { 'cache.key': 'order:42' } }]);
  for (const s of spans) {
    expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(s.resource['service.name']).toBe('receiver-test');
    expect(s.durationUs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(s.startTimeUs - Date.now() * 1000)).toBeLessThan(60e6);
  }
  return child;
}

describe('OTLP receiver', () => {
  it.each(['none', 'gzip'])('decodes http/protobuf exports (compression %s)', async (compression) => {
    const receiver = await startOtlpReceiver();
    try {
      const { provider, tracer, results } = setup(
        new OTLPTraceExporter({ url: receiver.url, compression } as OtlpConfig),
      );
      const ids = emitTrace(tracer);
      await provider.forceFlush();
      await provider.shutdown();
      const child = expectCommon(await receiver.waitForSpans(2), ids);
      expect(child.attributes).toEqual(ATTRIBUTES); // ints and doubles keep their types on the wire
      expect(receiver.spans[0]!.resource).toMatchObject({ 'deployment.environment': 'test' });
      expect(results.map((r) => r.code)).toEqual([ExportResultCode.SUCCESS, ExportResultCode.SUCCESS]);
    } finally {
      await receiver.close();
    }
  });

  it('decodes OTLP/JSON (hex ids, string int64s, numeric enums)', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const attr = (key: string, value: object) => ({ key, value });
      const body = {
        resourceSpans: [
          {
            resource: { attributes: [attr('service.name', { stringValue: 'json-svc' })] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: '5B8EFFF798038103D269B633813FC60C',
                    spanId: 'EEE19B7EC3C1B174',
                    parentSpanId: 'EEE19B7EC3C1B173',
                    name: 'json-span',
                    kind: 2,
                    startTimeUnixNano: '1700000000000000000',
                    endTimeUnixNano: '1700000000001500000',
                    attributes: [
                      attr('n', { intValue: '7' }),
                      attr('l', { arrayValue: { values: [{ boolValue: false }] } }),
                    ],
                    status: { code: 1 },
                  },
                ],
              },
            ],
          },
        ],
      };
      const res = await fetch(receiver.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      expect(receiver.spans).toEqual([
        {
          traceId: '5b8efff798038103d269b633813fc60c',
          spanId: 'eee19b7ec3c1b174',
          parentSpanId: 'eee19b7ec3c1b173',
          name: 'json-span',
          kind: 'SERVER',
          startTimeUs: 1700000000000000,
          durationUs: 1500,
          attributes: { n: 7, l: [false] },
          status: { code: 'OK' },
          events: [],
          resource: { 'service.name': 'json-svc' },
        },
      ]);
    } finally {
      await receiver.close();
    }
  });

  it("'error500' makes the export fail and keeps no spans", async () => {
    const receiver = await startOtlpReceiver({ mode: 'error500' });
    try {
      const { provider, tracer, results } = setup(new OTLPTraceExporter({ url: receiver.url, timeoutMillis: 1000 }));
      tracer.startSpan('rejected').end();
      // forceFlush surfaces the failed export's error
      await expect(provider.forceFlush()).rejects.toEqual([expect.objectContaining({ code: 500 })]);
      expect(results.map((r) => r.code)).toEqual([ExportResultCode.FAILED]);
      expect(receiver.requests).toBe(1); // 500 is not retryable in OTLP
      expect(receiver.spans).toEqual([]);

      receiver.setMode('ok');
      tracer.startSpan('accepted').end();
      await provider.forceFlush();
      expect((await receiver.waitForSpans(1)).map((s) => s.name)).toEqual(['accepted']);
    } finally {
      await receiver.close();
    }
  });

  it("'hang' leaves the export pending until the exporter's timeout", async () => {
    const receiver = await startOtlpReceiver({ mode: 'hang' });
    try {
      const { provider, tracer, results } = setup(new OTLPTraceExporter({ url: receiver.url, timeoutMillis: 300 }));
      const started = Date.now();
      tracer.startSpan('stuck').end();
      await receiver.waitForRequests(1);
      expect(results).toEqual([]);
      await expect(provider.forceFlush()).rejects.toEqual([expect.objectContaining({ message: 'Request timed out' })]);
      expect(results.map((r) => r.code)).toEqual([ExportResultCode.FAILED]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      await receiver.close();
    }
  });

  it('close() tears down requests left hanging', async () => {
    const receiver = await startOtlpReceiver({ mode: 'hang' });
    const outcome = new Promise<string>((resolve) => {
      const req = request(receiver.url, { method: 'POST' }, () => resolve('answered'));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end('x');
    });
    await receiver.waitForRequests(1);
    await receiver.close();
    expect(await outcome).toBe('ECONNRESET');
  });

  it('waitForSpans rejects with what did arrive', async () => {
    const receiver = await startOtlpReceiver();
    try {
      await expect(receiver.waitForSpans(1, 50)).rejects.toThrow('expected 1 span(s) within 50 ms, received 0');
    } finally {
      await receiver.close();
    }
  });
});

describe('Jaeger receivers', () => {
  // JaegerExporter.shutdown() races an uncleared flushTimeout timer (default 2 s) that keeps jest alive.
  const flushTimeout = 100;

  /** The Jaeger exporter flattens arrays to strings, sends every number as a DOUBLE tag, and copies resource attributes onto each span. */
  function expectJaegerAttributes(child: ReceivedSpan): void {
    expect(child.attributes).toMatchObject({
      ...ATTRIBUTES,
      'app.list': 'x,y',
      'deployment.environment': 'test',
      'otel.library.name': 'receivers-spec',
    });
    expect(child.attributes).not.toHaveProperty('error');
    expect(child.attributes).not.toHaveProperty('span.kind');
    expect(child.attributes).not.toHaveProperty('otel.status_code');
  }

  it('decodes collector (HTTP) batches', async () => {
    const receiver = await startJaegerHttpReceiver();
    try {
      const { provider, tracer, results } = setup(
        new JaegerExporter({ endpoint: receiver.endpoint, flushTimeout, tags: [{ key: 'host.name', value: 'ci' }] }),
      );
      const ids = emitTrace(tracer);
      await provider.forceFlush();
      await provider.shutdown();
      const child = expectCommon(await receiver.waitForSpans(2), ids);
      expectJaegerAttributes(child);
      expect(child.resource).toEqual({ 'service.name': 'receiver-test', 'host.name': 'ci' });
      expect(results.map((r) => r.code)).toEqual([ExportResultCode.SUCCESS, ExportResultCode.SUCCESS]);
    } finally {
      await receiver.close();
    }
  });

  it('decodes agent (UDP) emitBatch messages', async () => {
    const receiver = await startJaegerUdpReceiver();
    try {
      const { provider, tracer } = setup(
        new JaegerExporter({ host: receiver.host, port: receiver.port, flushTimeout }),
      );
      const ids = emitTrace(tracer);
      await provider.forceFlush();
      await provider.shutdown();
      expectJaegerAttributes(expectCommon(await receiver.waitForSpans(2), ids));
      expect(receiver.errors).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});
