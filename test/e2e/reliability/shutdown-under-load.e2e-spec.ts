/**
 * Guarantee 6: thousands of spans still queued at app.close() all reach a healthy
 * collector, within shutdownTimeoutMs.
 */
import { Controller, Get, Injectable, Param, ParseIntPipe } from '@nestjs/common';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { Trace } from 'nestjs-tracing';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlp-receiver.js';
import { hit, startApp } from './reliability-app.js';

@Injectable()
class Bulk {
  @Trace()
  item(i: number): number {
    return i;
  }
}

/** GET /bulk/:n makes n traced calls: n + 1 spans with the SERVER span. */
@Controller('bulk')
class BulkController {
  constructor(private readonly bulk: Bulk) {}

  @Get(':n')
  run(@Param('n', ParseIntPipe) n: number): number {
    let total = 0;
    for (let i = 0; i < n; i++) total += this.bulk.item(i);
    return total;
  }
}

/** The stock OTLP exporter behind a collector that takes 100 ms to answer, so spans pile up in the queue. */
class SlowCollector implements SpanExporter {
  private readonly otlp: OTLPTraceExporter;
  constructor(url: string) {
    this.otlp = new OTLPTraceExporter({ url });
  }
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    setTimeout(() => this.otlp.export(spans, done), 100);
  }
  shutdown(): Promise<void> {
    return this.otlp.shutdown();
  }
}

describe('shutdown under load', () => {
  let receiver: OtlpReceiver;
  beforeEach(async () => (receiver = await startOtlpReceiver()));
  afterEach(() => receiver.close());

  it('delivers every one of thousands of queued spans to a healthy collector within shutdownTimeoutMs', async () => {
    const shutdownTimeoutMs = 5000;
    const t = await startApp(
      {
        exporter: new SlowCollector(receiver.url),
        // one batch of 100 at a time goes out while the load lasts; the rest waits in the queue
        batch: { scheduledDelayMillis: 600_000, maxExportBatchSize: 100, maxQueueSize: 8192 },
        shutdownTimeoutMs,
      },
      { controllers: [BulkController], providers: [Bulk] },
    );
    const requests = 12;
    const perRequest = 499;
    const results = await hit(t.url, requests, 4, `/bulk/${perRequest}`);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const produced = requests * (perRequest + 1);
    // thousands still queued: close() has to send them in dozens of batches at once
    expect(t.stats().queued).toBeGreaterThan(3000);

    const began = Date.now();
    await t.app.close();
    expect(Date.now() - began).toBeLessThan(shutdownTimeoutMs);
    expect(t.stats()).toMatchObject({ dropped: 0, exported: produced, queued: 0 });
    expect(receiver.spans).toHaveLength(produced);
    expect(new Set(receiver.spans.map((s) => s.spanId)).size).toBe(produced);
    expect(t.logs.tracing(/./).filter((l) => l.level !== 'log')).toEqual([]);
  });
});
