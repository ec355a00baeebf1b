import 'reflect-metadata';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { Observable, firstValueFrom, interval, lastValueFrom, map, take, throwError } from 'rxjs';
import { SpanAttr, Trace } from 'nestjs-tracing';
import { startTestRuntime, type TestRuntime } from '../support/test-runtime.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Inventory {
  @Trace()
  count(a: number, b: number) {
    return a + b;
  }

  @Trace('inventory.lookup', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'memory' } })
  async lookup(sku: string) {
    await sleep(20);
    return this.count(sku.length, 1);
  }

  @Trace()
  fail(): never {
    throw new TypeError('bad sku');
  }

  @Trace()
  async failLater(): Promise<never> {
    await sleep(1);
    throw new RangeError('out of stock');
  }

  @Trace()
  stream(n: number): Observable<number> {
    return interval(5).pipe(
      take(n),
      map((i) => this.count(i, 0)),
    );
  }

  @Trace()
  streamError(): Observable<never> {
    return throwError(() => new Error('stream broke'));
  }

  @Trace()
  lazy(calls: { n: number }) {
    return {
      then(resolve: (v: string) => void) {
        calls.n++;
        setTimeout(() => resolve('ran'), 5);
      },
      extra: () => 'kept',
    };
  }

  @Trace()
  current() {
    return trace.getSpan(context.active())?.spanContext().spanId;
  }
}

describe('@Trace on methods', () => {
  let t: TestRuntime;
  const svc = new Inventory();
  beforeAll(async () => (t = await startTestRuntime()));
  afterAll(() => t.stop());
  beforeEach(() => t.reset());

  it('ends a sync span on return, named Class.method, with code attributes', async () => {
    expect(svc.count(2, 3)).toBe(5);
    const [span] = await t.spans();
    expect(span?.name).toBe('Inventory.count');
    expect(span?.kind).toBe(SpanKind.INTERNAL);
    expect(span?.attributes).toMatchObject({ 'code.function.name': 'Inventory.count' });
    expect(span?.attributes).not.toHaveProperty('code.namespace');
    expect(span?.ended).toBe(true);
  });

  it('honours a custom name, kind and attributes, and ends an async span when the promise settles', async () => {
    await expect(svc.lookup('abc')).resolves.toBe(4);
    const spans = await t.spans();
    const lookup = spans.find((s) => s.name === 'inventory.lookup')!;
    const count = spans.find((s) => s.name === 'Inventory.count')!;
    expect(lookup.kind).toBe(SpanKind.CLIENT);
    expect(lookup.attributes['db.system']).toBe('memory');
    expect(count.parentSpanContext?.spanId).toBe(lookup.spanContext().spanId);
    const ms = lookup.duration[0] * 1e3 + lookup.duration[1] / 1e6;
    expect(ms).toBeGreaterThanOrEqual(15);
  });

  it('makes the span active inside the method', async () => {
    const inside = svc.current();
    const [span] = await t.spans();
    expect(inside).toBe(span?.spanContext().spanId);
  });

  it('records a sync error and rethrows the same object', async () => {
    let thrown: unknown;
    try {
      svc.fail();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    const [span] = await t.spans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad sku' });
    const event = span?.events.find((e) => e.name === 'exception');
    expect(event?.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'bad sku' });
    expect(String(event?.attributes?.['exception.stacktrace'])).toContain('TypeError: bad sku');
  });

  it('records an async rejection and rejects with the same object', async () => {
    const error = await svc.failLater().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    const [span] = await t.spans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.events[0]?.attributes?.['exception.type']).toBe('RangeError');
  });

  it('ends an Observable span on completion, with emissions parented to it', async () => {
    await expect(lastValueFrom(svc.stream(3))).resolves.toBe(2);
    const spans = await t.spans();
    const stream = spans.find((s) => s.name === 'Inventory.stream')!;
    const counts = spans.filter((s) => s.name === 'Inventory.count');
    expect(counts).toHaveLength(3);
    for (const c of counts) expect(c.parentSpanContext?.spanId).toBe(stream.spanContext().spanId);
    const ms = stream.duration[0] * 1e3 + stream.duration[1] / 1e6;
    expect(ms).toBeGreaterThanOrEqual(10);
  });

  it('ends an Observable span when the subscriber unsubscribes', async () => {
    await expect(firstValueFrom(svc.stream(100))).resolves.toBe(0);
    const stream = (await t.spans()).find((s) => s.name === 'Inventory.stream');
    expect(stream?.ended).toBe(true);
    expect(stream?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records an Observable error', async () => {
    await expect(lastValueFrom(svc.streamError())).rejects.toThrow('stream broke');
    const [span] = await t.spans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('does not start an Observable twice or a lazy thenable itself', async () => {
    const calls = { n: 0 };
    const result = svc.lazy(calls);
    expect(result.extra()).toBe('kept');
    expect(calls.n).toBe(0);
    await expect(Promise.resolve(result)).resolves.toBe('ran');
    expect(calls.n).toBe(1);
    const [span] = await t.spans();
    expect(span?.name).toBe('Inventory.lazy');
  });

  it('keeps concurrent async calls in separate spans with the right children', async () => {
    await Promise.all(['a', 'bb', 'ccc'].map((sku) => svc.lookup(sku)));
    const spans = await t.spans();
    const lookups = spans.filter((s) => s.name === 'inventory.lookup');
    expect(lookups).toHaveLength(3);
    for (const lookup of lookups) {
      const children = spans.filter((s) => s.parentSpanContext?.spanId === lookup.spanContext().spanId);
      expect(children.map((c) => c.name)).toEqual(['Inventory.count']);
    }
  });
});

describe('@SpanAttr', () => {
  let t: TestRuntime;
  beforeAll(async () => (t = await startTestRuntime({ attributeValueLengthLimit: 40 })));
  afterAll(() => t.stop());
  beforeEach(() => t.reset());

  class Orders {
    @Trace()
    place(
      @SpanAttr('order.id') id: number,
      @SpanAttr('order.tags') tags: string[],
      @SpanAttr('order.customer') customer: object,
      @SpanAttr('order.note') note?: string,
      @SpanAttr('order.total', (o: { total: number }) => o.total) order?: { total: number },
      @SpanAttr('order.big') big?: bigint,
      @SpanAttr('order.flag') flag?: boolean,
    ) {
      return [id, tags, customer, note, order, big, flag].length;
    }
  }

  it('records primitives and arrays as they are, objects as capped JSON, mapped values, and skips undefined', async () => {
    new Orders().place(
      7,
      ['a', 'b'],
      { name: 'Ada', address: { city: 'London', street: 'A very long street name' } },
      undefined,
      { total: 12.5 },
      10n,
      false,
    );
    const [span] = await t.spans();
    expect(span?.attributes['order.id']).toBe(7);
    expect(span?.attributes['order.tags']).toEqual(['a', 'b']);
    expect(span?.attributes['order.customer']).toBe('{"name":"Ada","address":{"city":"London"'.slice(0, 40));
    expect(span?.attributes).not.toHaveProperty('order.note');
    expect(span?.attributes['order.total']).toBe(12.5);
    expect(span?.attributes['order.big']).toBe('10');
    expect(span?.attributes['order.flag']).toBe(false);
  });

  it('never throws for values that cannot be serialised', async () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const hostile = {
      toJSON() {
        throw new Error('no');
      },
    };
    expect(new Orders().place(1, [], circular)).toBe(7);
    expect(new Orders().place(1, [], hostile)).toBe(7);
    const spans = await t.spans();
    expect(spans[0]?.attributes['order.customer']).toBe('{"a":1,"self":"[Circular]"}');
    expect(typeof spans[1]?.attributes['order.customer']).toBe('string');
  });
});

describe('@Trace and Nest HTTP exceptions', () => {
  it('records a 4xx HttpException as an event without marking the span failed; a 5xx one fails it', async () => {
    const { NotFoundException, ServiceUnavailableException } = await import('@nestjs/common');
    class Lookup {
      @Trace()
      missing(): never {
        throw new NotFoundException('no such product');
      }
      @Trace()
      down(): never {
        throw new ServiceUnavailableException('inventory down');
      }
    }
    const t = await startTestRuntime();
    try {
      expect(() => new Lookup().missing()).toThrow(NotFoundException);
      expect(() => new Lookup().down()).toThrow(ServiceUnavailableException);
      const spans = await t.spans();
      const missing = spans.find((s) => s.name === 'Lookup.missing')!;
      const down = spans.find((s) => s.name === 'Lookup.down')!;
      expect(missing.status.code).toBe(SpanStatusCode.UNSET);
      expect(missing.events[0]?.attributes?.['exception.message']).toBe('no such product');
      expect(down.status.code).toBe(SpanStatusCode.ERROR);
    } finally {
      await t.stop();
    }
  });
});
