/**
 * Guarantee 4: whatever value reaches an attribute through @SpanAttr, TraceService or the
 * options, nothing throws into user code; values are capped at attributeValueLengthLimit
 * (strings, arrays, JSON of objects, written within that budget) and spans keep at most
 * attributeCountLimit attributes.
 */
import 'reflect-metadata';
import { SpanAttr, Trace, TraceService } from 'nestjs-tracing';
import { resolveOptions } from '../../../lib/options/resolve-options.js';
import { toAttributeValue } from '../../../lib/attributes/to-attribute-value.js';
import { startTestRuntime, type TestRuntime } from '../../support/test-runtime.js';

const LIMIT = 64;

/** Values that have broken attribute code somewhere. */
function hostileValues(): Record<string, unknown> {
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 10_000; i++) deep = (deep.next = {}) as Record<string, unknown>;
  return {
    'huge string': 'x'.repeat(5_000_000),
    'huge string array': Array.from({ length: 100_000 }, () => 'yyyyyyyyyy'),
    'huge number array': Array.from({ length: 200_000 }, (_, i) => i),
    circular,
    bigint: 2n ** 200n,
    symbol: Symbol('s'),
    function: () => 1,
    buffer: Buffer.alloc(1_000_000),
    'typed array': new Float64Array(1000),
    date: new Date(0),
    'invalid date': new Date(NaN),
    'throwing getter': {
      ok: 1,
      get bad() {
        throw new Error('getter');
      },
    },
    'throwing toJSON': {
      toJSON() {
        throw new Error('toJSON');
      },
    },
    'revoked proxy': revoked,
    'throwing proxy': new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('ownKeys');
        },
        get() {
          throw new Error('get');
        },
      },
    ),
    'null prototype': Object.assign(Object.create(null) as object, { a: 1 }),
    'deep nesting': root,
    'map and set': { m: new Map([[1, 2]]), s: new Set([1]) },
    'mixed array': [1, 'two', { three: 3 }, [4n]],
    'nested bigint and buffer': { n: 1n, b: Buffer.from('abc'), sym: Symbol('x'), f() {} },
    'throwing toString': {
      toString() {
        throw new Error('toString');
      },
      valueOf() {
        throw new Error('valueOf');
      },
    },
  };
}

function sizeOf(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v: unknown) => n + String(v).length, 0);
  return String(value).length;
}

describe('toAttributeValue', () => {
  it.each(Object.entries(hostileValues()))('%s: never throws, stays within the limit', (_name, value) => {
    let result: unknown;
    expect(() => (result = toAttributeValue(value, LIMIT))).not.toThrow();
    if (result !== undefined) expect(sizeOf(result)).toBeLessThanOrEqual(LIMIT + 16);
  });

  it('keeps ordinary values as JSON.stringify writes them', () => {
    const value = { a: 1, b: 'two', c: [true, null], d: { e: new Date(0) }, skip: undefined, f() {} };
    expect(toAttributeValue(value, 1000)).toBe(JSON.stringify(value));
    expect(toAttributeValue(['a', 'b'], 1000)).toEqual(['a', 'b']);
    expect(toAttributeValue([1, 2.5], 1000)).toEqual([1, 2.5]);
    expect(toAttributeValue(10n, 1000)).toBe('10');
    expect(toAttributeValue(Buffer.from('abc'), 1000)).toBe('<Buffer 3 bytes>');
    expect(toAttributeValue(new Date(0), 1000)).toBe('1970-01-01T00:00:00.000Z');
    expect(toAttributeValue({ a: 1n, loop: undefined }, 1000)).toBe('{"a":"1"}');
  });

  it('spoils only the value whose getter or toJSON throws', () => {
    expect(
      toAttributeValue(
        {
          ok: 1,
          get bad() {
            throw new Error('no');
          },
          after: 2,
        },
        1000,
      ),
    ).toBe('{"ok":1,"bad":"[unserializable]","after":2}');
    expect(
      toAttributeValue(
        {
          inner: {
            toJSON() {
              throw new Error('no');
            },
          },
        },
        1000,
      ),
    ).toBe('{"inner":"[unserializable]"}');
  });

  it('cuts arrays where their items add up to the limit', () => {
    expect(toAttributeValue(['aaaa', 'bbbb', 'cccc'], 10)).toEqual(['aaaa', 'bbbb', 'cc']);
    expect(
      (
        toAttributeValue(
          Array.from({ length: 1000 }, () => 7),
          10,
        ) as number[]
      ).length,
    ).toBe(10);
  });

  it('writes JSON within the budget: a huge object is not walked past the limit', () => {
    let reads = 0;
    const wide: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++)
      Object.defineProperty(wide, `k${i}`, { enumerable: true, get: () => (reads++, i) });
    const value = toAttributeValue(wide, LIMIT) as string;
    expect(value.length).toBe(LIMIT);
    expect(reads).toBeLessThan(LIMIT);
  });
});

describe('hostile values through @SpanAttr and TraceService', () => {
  let t: TestRuntime;
  beforeAll(async () => (t = await startTestRuntime({ attributeValueLengthLimit: LIMIT, attributeCountLimit: 10 })));
  afterAll(() => t.stop());
  beforeEach(() => t.reset());

  class Service {
    constructor(private readonly traces = new TraceService()) {}

    @Trace()
    take(
      @SpanAttr('arg.value') value: unknown,
      @SpanAttr('arg.mapped', (v: unknown) => (v as { boom: unknown }).boom) mapped: unknown,
    ): string {
      return typeof value + typeof mapped;
    }

    @Trace()
    record(values: Record<string, unknown>): number {
      for (const [key, value] of Object.entries(values)) this.traces.setAttribute(`ts.${key}`, value);
      this.traces.setAttributes(values);
      this.traces.addEvent('values', values);
      this.traces.setAttribute(Symbol('key') as unknown as string, 'x');
      this.traces.setAttribute(undefined as unknown as string, 'x');
      return 1;
    }

    @Trace()
    recordAll(values: Record<string, unknown>): number {
      this.traces.setAttributes(values);
      this.traces.addEvent('values', values);
      return 1;
    }
  }

  it('never throws into user code, and caps every recorded value', async () => {
    const service = new Service();
    for (const value of Object.values(hostileValues())) {
      expect(() => service.take(value, value)).not.toThrow();
      expect(() =>
        service.take(value, {
          get boom() {
            throw new Error('map');
          },
        }),
      ).not.toThrow();
    }
    const hostile = hostileValues();
    const throwingKeys = new Proxy(hostile, {
      ownKeys() {
        throw new Error('ownKeys');
      },
    });
    expect(service.record(hostile)).toBe(1);
    expect(service.recordAll(throwingKeys)).toBe(1);
    const spans = await t.spans();
    expect(spans.length).toBe(2 * Object.keys(hostile).length + 2);
    for (const span of spans) {
      for (const value of Object.values(span.attributes)) expect(sizeOf(value)).toBeLessThanOrEqual(LIMIT + 16);
      for (const event of span.events)
        for (const value of Object.values(event.attributes ?? {}))
          expect(sizeOf(value)).toBeLessThanOrEqual(LIMIT + 16);
    }
  });

  it('a getter that throws costs only its own key', async () => {
    expect(
      new Service().recordAll({
        before: 1,
        get bad(): never {
          throw new Error('getter');
        },
        after: 2,
      }),
    ).toBe(1);
    const [span] = await t.spans();
    expect(span!.attributes).toMatchObject({ before: 1, after: 2 });
    expect(span!.attributes).not.toHaveProperty('bad');
  });

  it('keeps at most attributeCountLimit attributes on a span, and counts the rest as dropped', async () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    new Service().record(many);
    const [span] = await t.spans();
    expect(Object.keys(span!.attributes)).toHaveLength(10);
    expect(span!.droppedAttributesCount).toBeGreaterThan(0);
    expect(Object.keys(span!.events[0]!.attributes ?? {})).toHaveLength(10);
  });
});

describe('values given in options', () => {
  it('resourceAttributes are converted, capped and redacted, never thrown on', () => {
    const resolved = resolveOptions({
      serviceName: 'svc',
      attributeValueLengthLimit: 16,
      resourceAttributes: { long: 'z'.repeat(1000), nested: { a: 1 } as never, 'db.password': 'hunter2', n: 1 },
    });
    expect(resolved.resourceAttributes).toEqual({
      long: 'z'.repeat(16),
      nested: '{"a":1}',
      'db.password': '[REDACTED]',
      n: 1,
      'service.name': 'svc',
    });
  });

  it('rejects malformed captureHeaders and exportBackoff at startup, and ignores /g on redact patterns', () => {
    expect(() => resolveOptions({ captureHeaders: { request: ['bad header'] } })).toThrow(/captureHeaders\.request/);
    expect(() => resolveOptions({ captureHeaders: 'all' as never })).toThrow(/captureHeaders/);
    expect(() => resolveOptions({ exportBackoff: { initialMs: 500, maxMs: 100 } })).toThrow(/exportBackoff\.maxMs/);
    const [pattern] = resolveOptions({ redact: [/^x-secret$/gi] }).redact.patterns.slice(-1);
    expect(pattern!.flags).toBe('i');
  });
});
