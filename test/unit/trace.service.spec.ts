import 'reflect-metadata';
import { SpanStatusCode } from '@opentelemetry/api';
import { lastValueFrom, of } from 'rxjs';
import { TraceService } from 'nestjs-tracing';
import { startTestRuntime, type TestRuntime } from '../support/test-runtime.js';

describe('TraceService', () => {
  let t: TestRuntime;
  const tracing = new TraceService();
  beforeAll(async () => (t = await startTestRuntime()));
  afterAll(() => t.stop());
  beforeEach(() => t.reset());

  it('is safe with no active span', () => {
    expect(tracing.getSpan()).toBeUndefined();
    expect(tracing.getTraceId()).toBeUndefined();
    expect(() => {
      tracing.setAttribute('a', 1);
      tracing.setAttributes({ b: 2 });
      tracing.addEvent('nothing');
    }).not.toThrow();
  });

  it('starts an active span, records attributes and events on it, and ends it with the work', async () => {
    const traceId = await tracing.startActiveSpan('checkout', async (span) => {
      tracing.setAttribute('cart.items', 3);
      tracing.setAttributes({ 'cart.currency': 'EUR', 'user.password': 'hunter2', skipped: undefined });
      tracing.addEvent('cache.miss', { key: 'cart:1', huge: 'x'.repeat(5000) });
      expect(tracing.getSpan()).toBe(span);
      return tracing.getTraceId();
    });
    const [span] = await t.spans();
    expect(span?.name).toBe('checkout');
    expect(traceId).toBe(span?.spanContext().traceId);
    expect(span?.attributes).toEqual({ 'cart.items': 3, 'cart.currency': 'EUR', 'user.password': '[REDACTED]' });
    expect(span?.events[0]?.name).toBe('cache.miss');
    expect(String(span?.events[0]?.attributes?.huge)).toHaveLength(2048);
  });

  it('records an error thrown in startActiveSpan and rethrows it; handles Observables', async () => {
    await expect(tracing.startActiveSpan('fails', async () => Promise.reject(new Error('nope')))).rejects.toThrow(
      'nope',
    );
    await expect(lastValueFrom(tracing.startActiveSpan('rx', () => of(1, 2)))).resolves.toBe(2);
    const spans = await t.spans();
    expect(spans.find((s) => s.name === 'fails')?.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans.find((s) => s.name === 'rx')?.ended).toBe(true);
  });
});

describe('TraceService.exportStats', () => {
  it('reports what each exporter of the app exported and dropped', async () => {
    const { Test } = await import('@nestjs/testing');
    const { InMemorySpanExporter } = await import('@opentelemetry/sdk-trace');
    const { TracingModule } = await import('nestjs-tracing');
    const failing = {
      export: () => {
        throw new Error('collector exploded');
      },
      shutdown: async () => undefined,
    };
    const moduleRef = await Test.createTestingModule({
      imports: [TracingModule.forRoot({ serviceName: 'stats', exporter: [new InMemorySpanExporter(), failing] })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const tracing = app.get(TraceService);
      tracing.startActiveSpan('one', () => 1);
      tracing.startActiveSpan('two', () => 2);
      await tracing.forceFlush();
      const [memory, broken] = tracing.exportStats();
      expect(memory).toMatchObject({ exporter: 'InMemorySpanExporter', exported: 2, dropped: 0, failing: false });
      expect(broken).toMatchObject({ exported: 0, dropped: 2, failedExports: 1, failing: true });
    } finally {
      await app.close();
    }
  });
});
