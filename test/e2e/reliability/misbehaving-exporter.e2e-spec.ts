/**
 * Guarantee 2: an exporter that throws synchronously, rejects, reports failure or never
 * calls back does not affect the app, is reported once (not per batch), holds a bounded
 * number of batches, and does not stop app.close().
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { hit, sleep, SPANS_PER_PING, startApp } from './reliability-app.js';

/** The bound the README promises: "4 batches in flight per exporter". */
const MAX_IN_FLIGHT = 4;

class Misbehaving implements SpanExporter {
  calls = 0;
  constructor(private readonly how: 'throws' | 'rejects' | 'fails' | 'never calls back') {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.calls++;
    switch (this.how) {
      case 'throws':
        throw new Error('exporter exploded');
      case 'rejects':
        // an async export() that rejects and never calls back
        return Promise.reject(new Error('exporter rejected')) as unknown as void;
      case 'fails':
        return done({ code: ExportResultCode.FAILED, error: new Error('exporter said no') });
      case 'never calls back':
        return;
    }
  }

  shutdown(): Promise<void> {
    return this.how === 'never calls back' ? new Promise(() => {}) : Promise.resolve();
  }
}

const REPORTED = /^Span export to Misbehaving failed/;
/** The cause the report names: the exporter's own error, or the guard's timeout. */
const CAUSE = {
  throws: 'exporter exploded',
  rejects: 'exporter rejected',
  fails: 'exporter said no',
  'never calls back': 'no answer within 450 ms',
};
const AT_SHUTDOWN = /^Span export to Misbehaving was still failing at shutdown; (\d+) span\(s\) were dropped/;

describe.each(['throws', 'rejects', 'fails', 'never calls back'] as const)('an exporter that %s', (how) => {
  it('leaves the app unaffected and is reported once, with its batches bounded', async () => {
    const exporter = new Misbehaving(how);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const t = await startApp({
      exporter,
      batch: { scheduledDelayMillis: 20, maxExportBatchSize: 10, exportTimeoutMillis: 200 },
      exportBackoff: { initialMs: 50, maxMs: 100 },
      shutdownTimeoutMs: 1000,
    });
    try {
      let served = 0;
      // enough rounds for many batches: the first failure and a string of failed probes
      const deadline = Date.now() + 8000;
      while (exporter.calls < MAX_IN_FLIGHT || t.stats().dropped < 200) {
        if (Date.now() > deadline) throw new Error(`only ${exporter.calls} export calls: ${JSON.stringify(t.stats())}`);
        const results = await hit(t.url, 10);
        expect(results.every((r) => r.status === 200)).toBe(true);
        served += results.length;
        await sleep(60);
      }
      expect(t.stats().failing).toBe(true);
      expect(t.stats().inFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      expect(t.logs.tracing(REPORTED)).toHaveLength(1);
      expect(t.logs.tracing(REPORTED)[0]?.message).toContain(CAUSE[how]);

      const began = Date.now();
      await t.app.close();
      expect(Date.now() - began).toBeLessThan(1000 + 2000);
      expect(t.logs.tracing(REPORTED)).toHaveLength(1);
      const atShutdown = t.logs.tracing(AT_SHUTDOWN);
      expect(atShutdown).toHaveLength(1);
      // nothing was exported: every span is counted as dropped
      expect(Number(AT_SHUTDOWN.exec(atShutdown[0]!.message)?.[1])).toBe(served * SPANS_PER_PING);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

it('an exporter that never calls back is given at most MAX_IN_FLIGHT batches, however long it lasts', async () => {
  const exporter = new Misbehaving('never calls back');
  const t = await startApp({
    exporter,
    batch: { scheduledDelayMillis: 10, maxExportBatchSize: 5, exportTimeoutMillis: 50 },
    exportBackoff: { initialMs: 10, maxMs: 20 },
    shutdownTimeoutMs: 500,
  });
  const traffic = async (ms: number): Promise<void> => {
    for (const end = Date.now() + ms; Date.now() < end;) {
      await hit(t.url, 5);
      await sleep(20);
    }
  };
  // the first export and each probe after it time out (after 300 ms) but stay with the
  // exporter; 2.5 s is room for twice MAX_IN_FLIGHT of them, yet once MAX_IN_FLIGHT are
  // held the guard stops feeding it
  await traffic(2500);
  expect(exporter.calls).toBe(MAX_IN_FLIGHT);
  expect(t.stats().inFlight).toBe(MAX_IN_FLIGHT);
  await t.app.close();
});
