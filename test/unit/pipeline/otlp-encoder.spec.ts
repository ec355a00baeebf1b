import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { OtlpSpanEncoder } from '../../../lib/export/otlp/span-encoder.js';
import { ExportRequest } from '../../support/otlp-receiver.js';
import { testPipeline } from './pipeline-harness.js';

/** Spans of every shape the API can make, through the record pipeline. */
function everyShape() {
  const { provider, ended } = testPipeline({ attributeCountLimit: 12 });
  const tracer = provider.getTracer('encoder-test', '1.2.3');
  const other = provider.getTracer('other-scope', undefined, { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });

  const root = tracer.startSpan('root', {
    kind: SpanKind.SERVER,
    attributes: {
      str: 'value',
      empty: '',
      unicode: 'héllo wörld ✓ 🎉',
      long: 'x'.repeat(300),
      int: 42,
      negative: -7,
      big: 2 ** 40,
      double: 3.25,
      bool: false,
      strings: ['a', 'b', null as unknown as string],
      numbers: [1, 2.5, -3],
      bools: [true, false],
    },
  });
  root.setAttribute('over.limit', 'dropped'); // the 13th key: counted, not kept
  root.addEvent('plain');
  root.addEvent('with attributes', { 'event.key': 'v', 'event.n': 1 }, new Date(Date.now() - 5));
  root.recordException(new TypeError('bad input'));
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed' });

  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=opaque,other=1'),
  });
  const child = tracer.startSpan(
    'child of remote',
    {
      kind: SpanKind.CLIENT,
      links: [
        {
          context: { traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), traceFlags: 0, isRemote: true },
          attributes: { 'link.key': 'x' },
        },
        { context: root.spanContext() },
      ],
      startTime: [Math.floor(Date.now() / 1000) - 1, 123456789],
    },
    remote,
  );
  child.setStatus({ code: SpanStatusCode.OK });
  const grandchild = other.startSpan('grandchild', { kind: SpanKind.CONSUMER }, trace.setSpan(remote, child));
  grandchild.updateName('grandchild renamed');
  for (const kind of [SpanKind.INTERNAL, SpanKind.PRODUCER]) tracer.startSpan(`kind ${kind}`, { kind }).end();
  grandchild.end();
  child.end(Date.now());
  root.end();
  return ended;
}

describe('OTLP span encoder', () => {
  it('writes the same bytes as the SDK serializer for every field and type', () => {
    const spans = everyShape();
    const encoder = new OtlpSpanEncoder();
    const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array);
    expect(Buffer.from(encoder.encode(spans))).toEqual(expected);
    // again: the key and value memory now copies what it wrote the first time
    expect(Buffer.from(encoder.encode(spans))).toEqual(expected);
    expect(Buffer.from(encoder.encode(spans.slice(1)))).toEqual(
      Buffer.from(ProtobufTraceSerializer.serializeRequest(spans.slice(1)) as Uint8Array),
    );
  });

  it('round-trips through the official proto schema', () => {
    const spans = everyShape();
    const decoded = ExportRequest.toObject(ExportRequest.decode(new OtlpSpanEncoder().encode(spans)), {
      longs: String,
      bytes: String,
      defaults: false,
    }) as { resourceSpans: Array<Record<string, any>> };
    expect(decoded.resourceSpans).toHaveLength(1);
    const [resourceSpans] = decoded.resourceSpans;
    const resource = Object.fromEntries(
      resourceSpans!.resource.attributes.map((a: any) => [a.key, Object.values(a.value)[0]]),
    );
    expect(resource).toEqual({ 'service.name': 'pipeline-test', 'deployment.environment': 'test', pid: '42' });
    const scopes = resourceSpans!.scopeSpans as Array<Record<string, any>>;
    expect(scopes.map((s) => [s.scope.name, s.scope.version, s.schemaUrl])).toEqual([
      ['encoder-test', '1.2.3', undefined],
      ['other-scope', undefined, 'https://opentelemetry.io/schemas/1.30.0'],
    ]);
    const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
    const byName = new Map(scopes.flatMap((s) => s.spans).map((s: any) => [s.name, s]));
    const root = byName.get('root');
    const rootRecord = spans.find((s) => s.name === 'root')!;
    expect(hex(root.traceId)).toBe(rootRecord.spanContext().traceId);
    expect(hex(root.spanId)).toBe(rootRecord.spanContext().spanId);
    expect(root.parentSpanId).toBeUndefined();
    expect(root.kind).toBe(2); // SERVER, counted from UNSPECIFIED = 0
    const ns = (t: [number, number]) => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
    expect(root.startTimeUnixNano).toBe(ns(rootRecord.startTime));
    expect(root.endTimeUnixNano).toBe(ns(rootRecord.endTime));
    const attributes = Object.fromEntries(root.attributes.map((a: any) => [a.key, a.value]));
    expect(attributes.str).toEqual({ stringValue: 'value' });
    expect(attributes.unicode).toEqual({ stringValue: 'héllo wörld ✓ 🎉' });
    expect(attributes.int).toEqual({ intValue: '42' });
    expect(attributes.negative).toEqual({ intValue: '-7' });
    expect(attributes.big).toEqual({ intValue: String(2 ** 40) });
    expect(attributes.double).toEqual({ doubleValue: 3.25 });
    expect(attributes.bool).toEqual({ boolValue: false });
    expect(attributes.numbers.arrayValue.values).toEqual([{ intValue: '1' }, { doubleValue: 2.5 }, { intValue: '-3' }]);
    expect(attributes['over.limit']).toBeUndefined();
    expect(root.droppedAttributesCount).toBe(1);
    expect(root.events.map((e: any) => e.name)).toEqual(['plain', 'with attributes', 'exception']);
    expect(root.events[2].attributes.map((a: any) => a.key)).toEqual([
      'exception.type',
      'exception.message',
      'exception.stacktrace',
    ]);
    expect(root.status).toEqual({ code: 2, message: 'it failed' });
    expect(root.flags).toBe(0x101);

    const child = byName.get('child of remote');
    expect(hex(child.traceId)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(hex(child.parentSpanId)).toBe('b7ad6b7169203331');
    expect(child.traceState).toBe('vendor=opaque,other=1');
    expect(child.flags).toBe(0x301); // sampled, parent known to be remote
    expect(child.links.map((l: any) => [hex(l.spanId), l.flags])).toEqual([
      ['e'.repeat(16), 0x300],
      [rootRecord.spanContext().spanId, 0x101],
    ]);
    expect(child.status).toEqual({ code: 1 });
    const grandchild = byName.get('grandchild renamed');
    expect(hex(grandchild.parentSpanId)).toBe(hex(child.spanId));
    expect(grandchild.flags).toBe(0x101);
  });

  it('moves a message whose length needs more or fewer bytes than it reserved', () => {
    const { provider, ended } = testPipeline();
    const tracer = provider.getTracer('sizes');
    for (const size of [0, 1, 100, 127, 128, 200, 2000, 16383, 16384, 70000]) {
      tracer.startSpan(`size ${size}`, { attributes: { blob: 'y'.repeat(Math.min(size, 2048)), n: size } }).end();
    }
    const many = tracer.startSpan('many events');
    for (let i = 0; i < 120; i++) many.addEvent(`event ${i}`, { text: 'z'.repeat(i * 10) });
    many.end();
    const spans = [...ended, ...ended, ...ended, ...ended, ...ended, ...ended, ...ended, ...ended];
    expect(Buffer.from(new OtlpSpanEncoder().encode(spans))).toEqual(
      Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array),
    );
  });
});
