import 'reflect-metadata';
import { Get, HttpCode, SetMetadata } from '@nestjs/common';
import { jest } from '@jest/globals';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { Trace } from '../../../lib/decorators/trace.decorator.js';
import { traceMethodIn, type SpanWrapper } from '../../../lib/instrumentations/auto-trace/auto-span-site.js';
import { autoSpanSpec } from '../../../lib/instrumentations/auto-trace/auto-span-spec.js';
import { withRuntime } from '../../../lib/runtime/active-runtime.js';
import { TracingGlobals } from '../../../lib/runtime/tracing-globals.js';
import { TracingRuntime } from '../../../lib/runtime/tracing-runtime.js';
import { startTestRuntime, type TestRuntime } from '../../support/test-runtime.js';

/** Runs `fn` inside a request of `runtime`'s app, as its server span would. */
function inRequestOf<T>(runtime: TracingRuntime, fn: () => T): T {
  const server = runtime.tracer.startSpan('request');
  try {
    return context.with(withRuntime(trace.setSpan(ROOT_CONTEXT, server), runtime), fn);
  } finally {
    server.end();
  }
}

/** The app's runtime: this unit test drives the wrapping primitive directly. */
const runtimeOf = (app: TestRuntime): TracingRuntime => app.app.get(TracingRuntime, { strict: false });

const names = async (app: TestRuntime) => (await app.spans()).map((s) => s.name).filter((n) => n !== 'request');

describe('automatic span sites', () => {
  let a: TestRuntime;
  let b: TestRuntime;

  beforeEach(async () => {
    a = await startTestRuntime({ serviceName: 'a' });
    b = await startTestRuntime({ serviceName: 'b' });
  });
  afterEach(async () => {
    await a.stop();
    await b.stop();
    TracingGlobals.reset();
  });

  it('makes spans only in the app that asked, and puts the prototype back when the last app leaves', async () => {
    class Catalog {
      find(id: number) {
        return id * 2;
      }
    }
    const original = Catalog.prototype.find;
    const undoA = traceMethodIn(runtimeOf(a), Catalog, 'find', autoSpanSpec(Catalog, 'find', 'provider'));
    const catalog = new Catalog();
    expect(inRequestOf(runtimeOf(a), () => catalog.find(2))).toBe(4);
    expect(inRequestOf(runtimeOf(b), () => catalog.find(3))).toBe(6);
    expect(catalog.find(4)).toBe(8); // outside any traced work: a plain call
    expect(await names(a)).toEqual(['Catalog.find']);
    expect(await names(b)).toEqual([]);
    expect((await a.spans())[0]?.attributes).toEqual({
      'code.function.name': 'Catalog.find',
      'nestjs.type': 'provider',
    });

    const undoB = traceMethodIn(runtimeOf(b), Catalog, 'find', autoSpanSpec(Catalog, 'find', 'provider'));
    inRequestOf(runtimeOf(b), () => catalog.find(5));
    expect(await names(b)).toEqual(['Catalog.find']);
    undoA?.();
    expect(Catalog.prototype.find).not.toBe(original); // b still uses it
    a.reset();
    inRequestOf(runtimeOf(a), () => catalog.find(6));
    expect(await names(a)).toEqual([]);
    undoB?.();
    expect(Catalog.prototype.find).toBe(original);
    expect(Object.getOwnPropertyDescriptor(Catalog.prototype, 'find')?.enumerable).toBe(false);
  });

  it('keeps name, length and every metadata key (routes, @HttpCode, @SetMetadata)', () => {
    class Shop {
      @Get(':id')
      @HttpCode(203)
      @SetMetadata('roles', ['reader'])
      item(_id: string, _extra?: number) {
        return undefined;
      }
    }
    const before = Shop.prototype.item;
    const keys = Reflect.getOwnMetadataKeys(before);
    traceMethodIn(runtimeOf(a), Shop, 'item', autoSpanSpec(Shop, 'item', 'handler'));
    const after = Shop.prototype.item;
    expect(after).not.toBe(before);
    expect(after.name).toBe('item');
    expect(after.length).toBe(2);
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const key of keys) expect(Reflect.getOwnMetadata(key, after)).toEqual(Reflect.getOwnMetadata(key, before));
  });

  it('leaves an @Trace() method alone: the explicit span is the only one', async () => {
    class Priced {
      @Trace()
      price() {
        return 1;
      }
    }
    const traced = Priced.prototype.price;
    expect(traceMethodIn(runtimeOf(a), Priced, 'price', autoSpanSpec(Priced, 'price', 'provider'))).toBeUndefined();
    expect(Priced.prototype.price).toBe(traced);
    inRequestOf(runtimeOf(a), () => new Priced().price());
    expect(await names(a)).toEqual(['Priced.price']);
  });

  it('names an inherited method after the class it is called on, once, even when the base is patched too', async () => {
    class Base {
      list() {
        return [];
      }
    }
    class Child extends Base {}
    traceMethodIn(runtimeOf(a), Base, 'list', autoSpanSpec(Base, 'list', 'provider'));
    traceMethodIn(runtimeOf(a), Child, 'list', autoSpanSpec(Child, 'list', 'provider'));
    inRequestOf(runtimeOf(a), () => new Child().list());
    inRequestOf(runtimeOf(a), () => new Base().list());
    expect(await names(a)).toEqual(['Child.list', 'Base.list']);
    TracingGlobals.reset();
    expect(Object.hasOwn(Child.prototype, 'list')).toBe(false);
  });

  it('keeps the lifetime of Promises and the identity of errors', async () => {
    class Jobs {
      async run(fail: boolean) {
        await new Promise((resolve) => setImmediate(resolve));
        if (fail) throw new RangeError('no');
        return 'done';
      }
    }
    traceMethodIn(runtimeOf(a), Jobs, 'run', autoSpanSpec(Jobs, 'run', 'provider'));
    const error = await inRequestOf(runtimeOf(a), () => new Jobs().run(true)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    await expect(inRequestOf(runtimeOf(a), () => new Jobs().run(false))).resolves.toBe('done');
    const spans = await a.spans();
    expect(spans.filter((s) => s.name === 'Jobs.run').map((s) => s.attributes['error.type'])).toEqual([
      'RangeError',
      undefined,
    ]);
  });

  it('never lets a broken tracer reach the call', async () => {
    class Quiet {
      ping() {
        return 'pong';
      }
    }
    traceMethodIn(runtimeOf(a), Quiet, 'ping', autoSpanSpec(Quiet, 'ping', 'provider'));
    const server = runtimeOf(a).tracer.startSpan('request');
    const ctx = withRuntime(trace.setSpan(ROOT_CONTEXT, server), runtimeOf(a));
    jest.spyOn(runtimeOf(a).tracer, 'startSpan').mockImplementation(() => {
      throw new Error('tracer is broken');
    });
    const warn = jest.spyOn(runtimeOf(a).logger, 'warn').mockImplementation(() => undefined);
    expect(context.with(ctx, () => new Quiet().ping())).toBe('pong');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('tells an entry point called outside traced work which app owns the instance', async () => {
    class Job {
      run() {
        return 'ran';
      }
    }
    const ofA = new Job();
    const ofB = new Job();
    let seen: Array<TracingRuntime | undefined> = [];
    const spec = autoSpanSpec(Job, 'run', 'scheduled');
    const wrap: SpanWrapper = (site) =>
      function run(this: unknown) {
        seen.push(site.runtimeOwning(this));
        return Reflect.apply(site.original, this, []);
      };
    const undoA = traceMethodIn(runtimeOf(a), Job, 'run', spec, wrap, (i) => i === ofA);
    const undoB = traceMethodIn(runtimeOf(b), Job, 'run', spec, wrap, (i) => i === ofB);
    expect([ofA.run(), ofB.run(), new Job().run()]).toEqual(['ran', 'ran', 'ran']);
    expect(seen).toEqual([runtimeOf(a), runtimeOf(b), undefined]);
    undoA?.();
    seen = [];
    ofA.run();
    ofB.run();
    expect(seen).toEqual([undefined, runtimeOf(b)]);
    undoB?.();
  });
});
