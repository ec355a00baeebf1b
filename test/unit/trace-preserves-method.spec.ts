import 'reflect-metadata';
import { Controller, Get, HttpCode, Injectable, Module, SetMetadata } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { SpanAttr, Trace } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { startTestRuntime } from '../support/test-runtime.js';

const SWAGGER_OPERATION = 'swagger/apiOperation';
const ApiOperation = (summary: string) => SetMetadata(SWAGGER_OPERATION, { summary });

@Controller('catalog')
class CatalogController {
  @Get(':id')
  @HttpCode(203)
  @ApiOperation({ summary: 'read' } as never)
  @SetMetadata('roles', ['admin'])
  @MessagePattern({ cmd: 'catalog.get' })
  @Trace()
  get(id: string, extra?: number) {
    return { id, extra };
  }
}

function metadataOf(fn: object): Record<string, unknown> {
  return Object.fromEntries(Reflect.getOwnMetadataKeys(fn).map((k) => [String(k), Reflect.getOwnMetadata(k, fn)]));
}

describe('@Trace keeps what it wraps', () => {
  it('keeps name, length and every metadata key, whichever side of the other decorators it stands', () => {
    class Untraced {
      @Get(':id')
      @HttpCode(203)
      @ApiOperation({ summary: 'read' } as never)
      @SetMetadata('roles', ['admin'])
      @MessagePattern({ cmd: 'catalog.get' })
      get(_id: string, _extra?: number) {
        return undefined;
      }
    }
    class TracedFirst {
      @Trace()
      @Get(':id')
      @HttpCode(203)
      @ApiOperation({ summary: 'read' } as never)
      @SetMetadata('roles', ['admin'])
      @MessagePattern({ cmd: 'catalog.get' })
      get(_id: string, _extra?: number) {
        return undefined;
      }
    }
    const expected = metadataOf(Untraced.prototype.get);
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(5);
    for (const method of [CatalogController.prototype.get, TracedFirst.prototype.get]) {
      expect(metadataOf(method)).toEqual(expected);
      expect(method.name).toBe('get');
      expect(method.length).toBe(2);
    }
    expect(Reflect.getMetadata('design:paramtypes', CatalogController.prototype, 'get')).toEqual([String, Number]);
  });

  it('never wraps a method twice: method-level @Trace wins over class-level, repeated @Trace is a no-op', async () => {
    @Trace()
    class Service {
      @Trace('custom.name')
      @Trace()
      named() {
        return 1;
      }
      plain(@SpanAttr('x') x: number) {
        return x;
      }
      get value() {
        return 42;
      }
      set value(_v: number) {}
      static make() {
        return new Service();
      }
    }
    const t = await startTestRuntime();
    try {
      const svc = Service.make();
      expect(svc.named()).toBe(1);
      expect(svc.plain(5)).toBe(5);
      expect(svc.value).toBe(42);
      const spans = await t.spans();
      expect(spans.map((s) => s.name).sort()).toEqual(['Service.named', 'Service.plain']);
      expect(spans.find((s) => s.name === 'Service.plain')?.attributes['x']).toBe(5);
    } finally {
      await t.stop();
    }
  });
});

@Injectable()
class Listener {
  received: string[] = [];
  @Trace()
  @OnEvent('order.created')
  onCreated(payload: { id: string }) {
    this.received.push(payload.id);
  }
}

@Module({ imports: [EventEmitterModule.forRoot()], providers: [Listener] })
class EventsModule {}

describe('@Trace on a Nest @OnEvent listener', () => {
  it('still receives events, each in a span', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TracingTestingModule.forRoot({ serviceName: 'events' }), EventsModule],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      app.get(EventEmitter2).emit('order.created', { id: 'o-1' });
      expect(app.get(Listener).received).toEqual(['o-1']);
      const spans = app.get(SpanRecorder).spans();
      expect(spans.map((s) => s.name)).toEqual(['Listener.onCreated']);
    } finally {
      await app.close();
    }
  });
});

describe('sampling', () => {
  class Work {
    @Trace()
    run() {
      return trace.getSpan(context.active());
    }
  }

  it('skips spans beneath an unsampled parent, keeping the parent active for propagation', async () => {
    const t = await startTestRuntime();
    try {
      const parent = trace.wrapSpanContext({
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
        traceFlags: TraceFlags.NONE,
      });
      const active = context.with(trace.setSpan(ROOT_CONTEXT, parent), () => new Work().run());
      expect(active).toBe(parent);
      expect(await t.spans()).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('records nothing with sampleRatio 0 and everything with 1', async () => {
    for (const [ratio, count] of [
      [0, 0],
      [1, 5],
    ] as const) {
      const t = await startTestRuntime({ sampleRatio: ratio });
      try {
        for (let i = 0; i < 5; i++) new Work().run();
        expect(await t.spans()).toHaveLength(count);
      } finally {
        await t.stop();
      }
    }
  });
});
