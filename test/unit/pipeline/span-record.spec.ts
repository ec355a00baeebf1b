import { context, diag, ROOT_CONTEXT, SpanStatusCode, trace, TraceFlags, type DiagLogger } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { SpanRecord } from '../../../lib/pipeline/span-record.js';
import { testPipeline } from './pipeline-harness.js';

const quiet: DiagLogger = { error() {}, warn() {}, info() {}, debug() {}, verbose() {} };

describe('span records', () => {
  beforeAll(() => diag.setLogger(quiet));
  afterAll(() => diag.disable());

  it('keeps attributes as the SDK does: checked, cut at the length limit, redacted, counted past the count limit', () => {
    const { provider, ended } = testPipeline({ attributeCountLimit: 4, attributeValueLengthLimit: 5 });
    const span = provider.getTracer('t').startSpan('s');
    span.setAttribute('text', 'abcdefgh');
    span.setAttribute('list', ['abcdefgh', 'ab']);
    span.setAttribute('user.password', 'hunter2');
    span.setAttribute('mixed', [1, 'a'] as unknown as string[]); // not an attribute value: refused, takes no slot
    span.setAttribute('object', { a: 1 } as unknown as string);
    span.setAttribute('', 'no key');
    span.setAttribute('nothing', undefined as unknown as string);
    span.setAttribute('authorization', ['Bearer x']);
    span.setAttribute('text', 'replaced'); // an existing key is overwritten, never dropped
    span.setAttribute('fifth', 1);
    span.end();
    const [record] = ended;
    expect(record!.attributes).toEqual({
      text: 'repla',
      list: ['abcde', 'ab'],
      'user.password': '[REDACTED]',
      authorization: ['[REDACTED]'],
    });
    expect(record!.droppedAttributesCount).toBe(1);
  });

  it('keeps the newest events and links up to their limits, with their own attribute limits and redaction', () => {
    const { provider, ended } = testPipeline({ eventCountLimit: 2, linkCountLimit: 1, attributePerEventCountLimit: 1 });
    const span = provider.getTracer('t').startSpan('s');
    span.addEvent('one');
    span.addEvent('two', { password: 'x', more: 1 });
    span.addEvent('three', 1_000); // a performance.now() reading: a time, not attributes
    const link = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED };
    span.addLink({ context: link });
    span.addLinks([{ context: link, attributes: { k: 'v' } }]);
    span.end();
    const [record] = ended;
    expect(record!.events.map((e) => e.name)).toEqual(['two', 'three']);
    expect(record!.events[0]).toMatchObject({ attributes: { password: '[REDACTED]' }, droppedAttributesCount: 1 });
    expect(record!.droppedEventsCount).toBe(1);
    expect(record!.links).toEqual([{ context: link, attributes: { k: 'v' } }]);
    expect(record!.droppedLinksCount).toBe(1);
  });

  it('follows the SDK on status, names, end and every call after end', () => {
    const { provider, ended } = testPipeline();
    const span = provider.getTracer('t').startSpan('first');
    span.setStatus({ code: SpanStatusCode.OK, message: 'ignored: only ERROR has a message' });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'too late: OK is final' });
    span.updateName('second');
    expect(span.isRecording()).toBe(true);
    span.end();
    span.end();
    span.setAttribute('after', 1);
    span.addEvent('after');
    span.updateName('after');
    expect(span.isRecording()).toBe(false);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ name: 'second', status: { code: SpanStatusCode.OK }, attributes: {}, events: [] });
    const error = provider.getTracer('t').startSpan('e');
    error.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    error.setStatus({ code: SpanStatusCode.UNSET });
    error.end();
    expect(ended[1]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
  });

  it('reads as a ReadableSpan: times in HrTime from the given or the monotonic clock, duration, scope, resource', () => {
    const { provider, ended } = testPipeline();
    const start = new Date('2026-12-02T10:00:00.000Z');
    const span = provider.getTracer('scope', '2.0.0').startSpan('timed', { startTime: start });
    expect(span).toMatchObject({ ended: false, endTime: [0, 0], duration: [-1, -1] });
    span.end([Math.floor(start.getTime() / 1000) + 2, 500]);
    const record: ReadableSpan = ended[0]!;
    expect(record.startTime).toEqual([Math.floor(start.getTime() / 1000), 0]);
    expect(record.endTime).toEqual([Math.floor(start.getTime() / 1000) + 2, 500]);
    expect(record.duration).toEqual([2, 500]);
    expect(record.ended).toBe(true);
    expect(record.instrumentationScope).toEqual({ name: 'scope', version: '2.0.0', schemaUrl: undefined });
    expect(record.resource.attributes['service.name']).toBe('pipeline-test');

    const before = Date.now();
    const now = provider.getTracer('scope').startSpan('now');
    now.end();
    const [seconds, nanos] = ended[1]!.startTime;
    const ms = seconds * 1000 + nanos / 1e6;
    expect(ms).toBeGreaterThanOrEqual(before - 50);
    expect(ms).toBeLessThanOrEqual(Date.now() + 50);
    // an end before the start is the start (the SDK's rule)
    const backwards = provider.getTracer('scope').startSpan('backwards');
    backwards.end(new Date(0));
    expect(ended[2]!.duration).toEqual([0, 0]);
  });

  it('gives a child its parent trace and a fresh span id; a root a fresh trace; both as lowercase hex', () => {
    const { provider, ended } = testPipeline();
    const tracer = provider.getTracer('t');
    const ids = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const root = tracer.startSpan('root');
      const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
      expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
      expect((child as SpanRecord).parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      ids.add(root.spanContext().traceId);
      ids.add(child.spanContext().spanId);
      child.end();
      root.end();
    }
    expect(ids.size).toBe(6000);
    for (const span of ended.slice(0, 50)) {
      expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(span.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    }
  });

  it('samples as a parent-based ratio sampler: roots by ratio, children by their parent, none when suppressed', () => {
    const never = testPipeline({ sampleRatio: 0 });
    const root = never.provider.getTracer('t').startSpan('root');
    expect(root.isRecording()).toBe(false);
    expect(root.spanContext()).toMatchObject({ traceFlags: TraceFlags.NONE });
    expect(trace.isSpanContextValid(root.spanContext())).toBe(true); // still carried downstream
    const child = never.provider.getTracer('t').startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
    expect(child.isRecording()).toBe(false);
    expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
    const sampledParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '1'.repeat(32),
      spanId: '2'.repeat(16),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(never.provider.getTracer('t').startSpan('continued', {}, sampledParent).isRecording()).toBe(true);

    const half = testPipeline({ sampleRatio: 0.5 });
    let sampled = 0;
    for (let i = 0; i < 4000; i++) if (half.provider.getTracer('t').startSpan('r').isRecording()) sampled++;
    expect(sampled).toBeGreaterThan(1700);
    expect(sampled).toBeLessThan(2300);

    const always = testPipeline();
    const suppressed = always.provider.getTracer('t').startSpan('quiet', {}, suppressTracing(ROOT_CONTEXT));
    expect(trace.isSpanContextValid(suppressed.spanContext())).toBe(false);
    const rootOption = always.provider.getTracer('t').startSpan('new root', { root: true }, sampledParent);
    expect(rootOption.spanContext().traceId).not.toBe('1'.repeat(32));
  });

  it('runs startActiveSpan with the span active, in each of its argument forms', () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    const { provider } = testPipeline();
    const tracer = provider.getTracer('t');
    const active = (span: { end(): void }) => {
      const current = trace.getSpan(context.active());
      span.end();
      return current === span;
    };
    expect(tracer.startActiveSpan('a', active)).toBe(true);
    expect(tracer.startActiveSpan('b', {}, active)).toBe(true);
    expect(tracer.startActiveSpan('c', {}, ROOT_CONTEXT, active)).toBe(true);
    context.disable();
  });

  it('calls processors in order at start, ending and end, and lets what they throw reach the caller, as the SDK does', () => {
    const calls: string[] = [];
    const processor = (name: string, fail = false): SpanProcessor => ({
      onStart: (span: Span) => {
        calls.push(`${name}.start ${span.name}`);
        if (fail) throw new Error('start');
      },
      onEnding: (span: Span) => {
        calls.push(`${name}.ending recording=${span.isRecording()}`);
        span.setAttribute(`set.by.${name}`, true);
      },
      onEnd: (span: ReadableSpan) => {
        calls.push(`${name}.end ended=${span.ended}`);
        if (fail) throw new Error('end');
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    });
    const { provider, ended } = testPipeline({ processors: [processor('first'), processor('second')] });
    provider.getTracer('t').startSpan('s').end();
    expect(calls).toEqual([
      'first.start s',
      'second.start s',
      'first.ending recording=true',
      'second.ending recording=true',
      'first.end ended=true',
      'second.end ended=true',
    ]);
    expect(ended[0]!.attributes).toEqual({ 'set.by.first': true, 'set.by.second': true });
    const failing = testPipeline({ processors: [processor('failing', true)] });
    expect(() => failing.provider.getTracer('t').startSpan('s')).toThrow('start');
  });
});
