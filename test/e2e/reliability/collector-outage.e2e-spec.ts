/**
 * Guarantee 1: with the collector refusing connections, answering 500 or never answering,
 * every request is served as fast as ever, the queue stays capped and what is dropped is
 * counted, the outage is logged once when it starts and once when it ends (or at
 * shutdown) with the number of spans dropped, export resumes by itself, and app.close()
 * is bounded by shutdownTimeoutMs. Real Nest apps, real HTTP, real sockets on 127.0.0.1.
 */
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlp-receiver.js';
import { hit, sleep, SPANS_PER_PING, startApp, SwitchablePort, type ReliabilityApp } from './reliability-app.js';

type Outage = 'refusing' | 'error500' | 'hanging';

/** Short timings, so that each scenario takes a second or two. */
const TIMINGS = {
  batch: { scheduledDelayMillis: 50, maxExportBatchSize: 20, maxQueueSize: 1000, exportTimeoutMillis: 1500 },
  exportBackoff: { initialMs: 150, maxMs: 300 },
  shutdownTimeoutMs: 2000,
};

/** A collector that fails the way `outage` says, and can come back healthy. */
async function failingCollector(outage: Outage) {
  const receiver = await startOtlpReceiver({
    mode: outage === 'refusing' ? 'ok' : outage === 'error500' ? 'error500' : 'hang',
  });
  const front = outage === 'refusing' ? await SwitchablePort.reserve() : undefined;
  return {
    receiver,
    url: front?.url ?? receiver.url,
    async recover() {
      if (front) await front.open(receiver.port);
      else receiver.setMode('ok');
    },
    async close() {
      await front?.close();
      await receiver.close();
    },
  };
}

const OUTAGE_STARTED = /^Span export to otlp failed/;
const OUTAGE_ENDED = /^Span export to otlp recovered; (\d+) span\(s\) were dropped/;
const DOWN_AT_SHUTDOWN = /^Span export to otlp was still failing at shutdown; (\d+) span\(s\) were dropped/;

describe.each<Outage>(['refusing', 'error500', 'hanging'])('collector %s', (outage) => {
  let collector: Awaited<ReturnType<typeof failingCollector>>;
  let t: ReliabilityApp | undefined;
  beforeEach(async () => {
    collector = await failingCollector(outage);
  });
  afterEach(async () => {
    await t?.app.close();
    t = undefined;
    await collector.close();
  });

  it('serves every request at full speed, logs the outage once each way with the drop count, and resumes by itself', async () => {
    t = await startApp({ exporter: 'otlp', otlp: { url: collector.url }, ...TIMINGS });
    const app = t;
    let requests = 0;

    // Failing: several exports fail (the first, then probes), requests never wait for them.
    const failingLatencies: number[] = [];
    while (app.stats().failedExports < 2 || app.stats().dropped < 3 * TIMINGS.batch.maxExportBatchSize) {
      const results = await hit(app.url, 20);
      requests += results.length;
      expect(results.every((r) => r.status === 200)).toBe(true);
      failingLatencies.push(...results.map((r) => r.ms));
      await sleep(100);
      if (requests > 4000) throw new Error(`the outage never showed: ${JSON.stringify(app.stats())}`);
    }
    // A request that waited for an export would take the export timeout (1500 ms) or more.
    expect(Math.max(...failingLatencies)).toBeLessThan(1000);
    expect(app.logs.tracing(OUTAGE_STARTED)).toHaveLength(1);
    expect(app.logs.tracing(OUTAGE_STARTED)[0]?.level).toBe('warn');
    expect(app.logs.tracing(OUTAGE_ENDED)).toHaveLength(0);

    // Back: the next probe succeeds and export resumes with no help.
    await collector.recover();
    const before = collector.receiver.spans.length;
    const deadline = Date.now() + 5000;
    while (app.stats().failing || collector.receiver.spans.length === before) {
      if (Date.now() > deadline) throw new Error(`export did not resume: ${JSON.stringify(app.stats())}`);
      requests += (await hit(app.url, 5)).length;
      await sleep(50);
    }
    const ended = app.logs.tracing(OUTAGE_ENDED);
    expect(ended).toHaveLength(1);
    expect(ended[0]?.level).toBe('log');
    const droppedInOutage = Number(OUTAGE_ENDED.exec(ended[0]!.message)?.[1]);
    expect(droppedInOutage).toBeGreaterThanOrEqual(3 * TIMINGS.batch.maxExportBatchSize);

    const served = requests;
    await app.app.close();
    t = undefined;
    // every span is accounted for: delivered, or dropped and counted
    const stats = app.stats();
    expect(stats.dropped).toBe(droppedInOutage);
    expect(collector.receiver.spans.length + stats.dropped).toBe(served * SPANS_PER_PING);
    expect(app.logs.tracing(OUTAGE_STARTED)).toHaveLength(1);
    expect(app.logs.tracing(DOWN_AT_SHUTDOWN)).toHaveLength(0);
  });

  it('closes within shutdownTimeoutMs while the collector is down, even when an export may take longer, logging the drop count once', async () => {
    // an export may take 5 s (the OTLP exporter retries a refused connection meanwhile); close may take 1 s
    const shutdownTimeoutMs = 1000;
    t = await startApp({
      exporter: 'otlp',
      otlp: { url: collector.url },
      ...TIMINGS,
      batch: { ...TIMINGS.batch, exportTimeoutMillis: 5000 },
      shutdownTimeoutMs,
    });
    const app = t;
    await hit(app.url, 40);
    await sleep(100); // the first batches are out: close finds exports under way and spans queued

    const began = Date.now();
    await app.app.close();
    t = undefined;
    expect(Date.now() - began).toBeLessThan(shutdownTimeoutMs + 2000);
    const atShutdown = app.logs.tracing(DOWN_AT_SHUTDOWN);
    expect(atShutdown).toHaveLength(1);
    expect(Number(DOWN_AT_SHUTDOWN.exec(atShutdown[0]!.message)?.[1])).toBe(app.stats().dropped);
    expect(app.logs.tracing(OUTAGE_STARTED).length).toBeLessThanOrEqual(1);
    expect(collector.receiver.spans.length + app.stats().dropped).toBe(40 * SPANS_PER_PING);
  });
});

describe('collector hanging under a burst', () => {
  let receiver: OtlpReceiver;
  beforeEach(async () => (receiver = await startOtlpReceiver({ mode: 'hang' })));
  afterEach(() => receiver.close());

  it('keeps the queue within maxQueueSize and counts every span the full queue drops', async () => {
    const maxQueueSize = 50;
    const t = await startApp({
      exporter: 'otlp',
      otlp: { url: receiver.url },
      batch: { maxQueueSize, maxExportBatchSize: 10, scheduledDelayMillis: 20, exportTimeoutMillis: 1000 },
      exportBackoff: { initialMs: 100, maxMs: 200 },
      shutdownTimeoutMs: 1500,
    });
    let maxQueued = 0;
    let maxInFlight = 0;
    const watch = setInterval(() => {
      maxQueued = Math.max(maxQueued, t.stats().queued);
      maxInFlight = Math.max(maxInFlight, t.stats().inFlight);
    }, 5);
    try {
      // 600 spans in bursts, far more than the queue holds while the first export hangs
      for (let i = 0; i < 6; i++) {
        const results = await hit(t.url, 50, 25);
        expect(results.every((r) => r.status === 200)).toBe(true);
      }
    } finally {
      clearInterval(watch);
    }
    expect(maxQueued).toBeLessThanOrEqual(maxQueueSize);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    await t.app.close();
    const stats = t.stats();
    expect(stats.droppedQueueFull).toBeGreaterThan(0);
    // nothing vanished uncounted: with the collector hanging to the end, everything was dropped
    expect(stats.dropped + receiver.spans.length).toBe(300 * SPANS_PER_PING);
  });
});
