import 'reflect-metadata';
import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { SpanStatusCode } from '@opentelemetry/api';
import request from 'supertest';
import { NoTrace, type TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { listen, PLATFORMS } from '../../support/platforms.js';
import { waitFor } from '../../support/wait-for.js';

const LISTEN_METADATA = 'EVENT_LISTENER_METADATA';

@Injectable()
class OrderListener {
  readonly seen: string[] = [];

  @OnEvent('order.created')
  onCreated(payload: { id: string }): string {
    this.seen.push(`created:${payload.id}`);
    return `ack-${payload.id}`;
  }

  @OnEvent('order.created', { async: true })
  async later(payload: { id: string }): Promise<void> {
    await Promise.resolve();
    this.seen.push(`later:${payload.id}`);
  }

  @OnEvent('order.failed')
  failing(): never {
    throw new Error('listener failed');
  }

  @NoTrace()
  @OnEvent('order.created')
  quiet(): void {
    this.seen.push('quiet');
  }
}

@Controller('orders')
class OrdersController {
  constructor(private readonly events: EventEmitter2) {}

  @Get('sync')
  sync() {
    return { delivered: this.events.emit('order.created', { id: 's1' }) };
  }

  @Get('async')
  async emitAsync() {
    return { results: await this.events.emitAsync('order.created', { id: 'a1' }) };
  }

  @Get('failing')
  failing() {
    return { delivered: this.events.emit('order.failed') };
  }
}

async function boot(platform: (typeof PLATFORMS)[number], options: TracingModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'events', ...options }), EventEmitterModule.forRoot()],
    controllers: [OrdersController],
    providers: [OrderListener],
  }).compile();
  const app = await listen(moduleRef, platform);
  return { app, recorder: app.get(SpanRecorder), listener: app.get(OrderListener) };
}

describe.each(PLATFORMS)('@OnEvent listener spans (%s)', (platform) => {
  let app: INestApplication;

  afterEach(async () => {
    await app?.close();
  });

  it('puts a span per listener call beneath the span that emitted, async: true listeners included', async () => {
    let recorder: SpanRecorder;
    let listener: OrderListener;
    ({ app, recorder, listener } = await boot(platform));
    await request(app.getHttpServer()).get('/orders/sync').expect(200, { delivered: true });
    await waitFor(() => recorder.findAll('OrderListener.later').length === 1, 'the async listener span');
    const handler = recorder.find('OrdersController.sync');
    for (const name of ['OrderListener.onCreated', 'OrderListener.later']) {
      const span = recorder.find(name);
      expect(span.parentSpanContext?.spanId).toBe(handler.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(handler.spanContext().traceId);
      expect(span.attributes).toMatchObject({ 'nestjs.type': 'listener', 'nestjs.event': 'order.created' });
    }
    expect(listener.seen).toEqual(expect.arrayContaining(['created:s1', 'later:s1', 'quiet']));
    expect(recorder.findAll('OrderListener.quiet')).toHaveLength(0);
  });

  it('traces emitAsync and hands the listeners results back unchanged', async () => {
    let recorder: SpanRecorder;
    ({ app, recorder } = await boot(platform));
    const res = await request(app.getHttpServer()).get('/orders/async').expect(200);
    expect(res.body.results).toContain('ack-a1');
    const handler = recorder.find('OrdersController.emitAsync');
    expect(recorder.find('OrderListener.onCreated').parentSpanContext?.spanId).toBe(handler.spanContext().spanId);
  });

  it('records a failing listener, which the emitter still swallows as without tracing', async () => {
    let recorder: SpanRecorder;
    ({ app, recorder } = await boot(platform));
    await request(app.getHttpServer()).get('/orders/failing').expect(200, { delivered: true });
    const span = await waitFor(() => recorder.findAll('OrderListener.failing')[0], 'the failing listener span');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('keeps the listener metadata, and adds nothing with autoTrace.events: false', async () => {
    let recorder: SpanRecorder;
    ({ app, recorder } = await boot(platform, { autoTrace: { events: false } }));
    expect(Reflect.getMetadata(LISTEN_METADATA, OrderListener.prototype.onCreated)).toEqual([
      { event: 'order.created', options: undefined },
    ]);
    await request(app.getHttpServer()).get('/orders/sync').expect(200);
    expect(recorder.spans().filter((s) => s.name.startsWith('OrderListener.'))).toEqual([]);
  });

  it('keeps name, length and metadata on the wrapped listener', async () => {
    const original = OrderListener.prototype.onCreated;
    ({ app } = await boot(platform));
    const method = OrderListener.prototype.onCreated;
    expect(method).not.toBe(original);
    expect(method.name).toBe('onCreated');
    expect(method.length).toBe(1);
    expect(Reflect.getMetadata(LISTEN_METADATA, method)).toHaveLength(1);
  });
});
