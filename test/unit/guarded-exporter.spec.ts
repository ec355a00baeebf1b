/**
 * Unit tests of the export guard's states (healthy, failing, probing, recovering, shutting
 * down) with an exporter the test answers by hand and Jest's fake clock: no real sleeps.
 * The e2e reliability tests check the same guarantees against real collectors.
 */
import { jest } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { GuardedExporter } from '../../lib/export/guarded-exporter.js';
import { MAX_IN_FLIGHT } from '../../lib/export/in-flight-exports.js';

const TIMEOUT_MS = 1000;
const BACKOFF = { initialMs: 1000, maxMs: 3000 };

/** Every export waits until the test answers it. */
class HeldExporter implements SpanExporter {
  readonly calls: Array<{ size: number; done: (result: ExportResult) => void }> = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.calls.push({ size: spans.length, done });
  }
  succeed(call = this.calls.length - 1): void {
    this.calls[call]!.done({ code: ExportResultCode.SUCCESS });
  }
  fail(call = this.calls.length - 1): void {
    this.calls[call]!.done({ code: ExportResultCode.FAILED, error: new Error('collector said no') });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const batch = (size: number): ReadableSpan[] => Array.from({ length: size }, () => ({}) as ReadableSpan);

function guardOf(inner: SpanExporter = new HeldExporter()) {
  const lines: Array<{ level: 'log' | 'warn'; message: string }> = [];
  const logger = {
    log: (message: string) => lines.push({ level: 'log', message }),
    warn: (message: string) => lines.push({ level: 'warn', message }),
  } as unknown as Logger;
  const guard = new GuardedExporter(inner, 'fake', logger, TIMEOUT_MS, BACKOFF);
  const answers: ExportResultCode[] = [];
  /** Hands the guard a batch as the batch processor does; the processor's answers land in `answers`. */
  const send = (size: number): void => guard.export(batch(size), (result) => answers.push(result.code));
  const said = (pattern: RegExp) => lines.filter((line) => pattern.test(line.message));
  return { guard, send, answers, said, lines };
}

const microtasks = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

beforeEach(() => jest.useFakeTimers({ now: 0, doNotFake: ['nextTick', 'queueMicrotask'] }));
afterEach(() => jest.useRealTimers());

describe('healthy', () => {
  it('hands each batch to the exporter and answers the processor when the exporter does', () => {
    const inner = new HeldExporter();
    const { guard, send, answers, lines } = guardOf(inner);
    send(3);
    expect(inner.calls).toHaveLength(1);
    expect(answers).toEqual([]);
    expect(guard.stats().inFlight).toBe(1);
    inner.succeed();
    expect(answers).toEqual([ExportResultCode.SUCCESS]);
    expect(guard.stats()).toMatchObject({ exported: 3, dropped: 0, inFlight: 0, failing: false });
    expect(lines).toEqual([]);
  });

  it('counts a throw, a rejection and no answer within the timeout as failures', async () => {
    const throwing = guardOf({ export: () => { throw new Error('boom'); }, shutdown: async () => {} }); // prettier-ignore
    throwing.send(1);
    expect(throwing.guard.stats()).toMatchObject({ failedExports: 1, dropped: 1, failing: true });

    const rejecting = guardOf({
      export: (() => Promise.reject(new Error('rejected'))) as unknown as SpanExporter['export'],
      shutdown: async () => {},
    });
    rejecting.send(1);
    await microtasks();
    expect(rejecting.guard.stats()).toMatchObject({ failedExports: 1, failing: true });
    expect(rejecting.said(/rejected/)).toHaveLength(1);

    const silent = guardOf();
    silent.send(2);
    jest.advanceTimersByTime(TIMEOUT_MS + 249);
    expect(silent.guard.stats().failing).toBe(false);
    jest.advanceTimersByTime(1);
    expect(silent.guard.stats()).toMatchObject({ failedExports: 1, dropped: 2, inFlight: 1, failing: true });
    expect(silent.answers).toEqual([ExportResultCode.SUCCESS]);
  });

  it(`holds at most ${MAX_IN_FLIGHT} unanswered exports; a batch beyond them fails without reaching the exporter`, () => {
    const inner = new HeldExporter();
    const { guard, send } = guardOf(inner);
    for (let i = 0; i < MAX_IN_FLIGHT + 1; i++) send(1);
    expect(inner.calls).toHaveLength(MAX_IN_FLIGHT);
    expect(guard.stats()).toMatchObject({ inFlight: MAX_IN_FLIGHT, failedExports: 1, failing: true });
  });
});

describe('failing', () => {
  it('logs the outage once, then drops batches within the back-off without calling the exporter', () => {
    const inner = new HeldExporter();
    const { guard, send, answers, said } = guardOf(inner);
    send(3);
    inner.fail();
    expect(said(/Span export to fake failed \(collector said no\)/)).toHaveLength(1);
    for (let i = 0; i < 5; i++) send(2);
    expect(inner.calls).toHaveLength(1);
    expect(answers).toEqual(Array(6).fill(ExportResultCode.SUCCESS));
    expect(guard.stats()).toMatchObject({ exported: 0, dropped: 13, failedExports: 1, failing: true });
    expect(said(/failed/)).toHaveLength(1);
  });
});

describe('probing', () => {
  it('lets one batch through per back-off period, in the background, doubling the wait up to maxMs', () => {
    const inner = new HeldExporter();
    const { guard, send, answers } = guardOf(inner);
    send(1);
    inner.fail();
    const waits = [1000, 2000, 3000, 3000];
    waits.forEach((wait, probes) => {
      jest.advanceTimersByTime(wait - 1);
      send(1);
      expect(inner.calls).toHaveLength(1 + probes);
      jest.advanceTimersByTime(1);
      const answered = answers.length;
      send(1);
      expect(inner.calls).toHaveLength(2 + probes);
      // the processor is answered at once, before the exporter; the probe's batch is out
      expect(answers).toHaveLength(answered + 1);
      expect(guard.stats().inFlight).toBe(1);
      send(1); // dropped: a probe is out
      expect(inner.calls).toHaveLength(2 + probes);
      inner.fail();
    });
    expect(guard.stats()).toMatchObject({ failedExports: 5, failing: true, inFlight: 0 });
  });
});

describe('recovering', () => {
  it('a successful probe ends the outage, says what it dropped, and resets the back-off', () => {
    const inner = new HeldExporter();
    const { guard, send, said } = guardOf(inner);
    send(2);
    inner.fail();
    send(5); // dropped within the back-off
    jest.advanceTimersByTime(1000);
    send(4); // a probe that fails: the next wait is 2000 ms
    inner.fail();
    jest.advanceTimersByTime(2000);
    send(3); // a probe that succeeds
    inner.succeed();
    expect(said(/recovered; 11 span\(s\) were dropped while it was failing/)).toHaveLength(1);
    expect(guard.stats()).toMatchObject({ exported: 3, dropped: 11, failing: false });
    send(1);
    expect(inner.calls).toHaveLength(4);
    inner.fail();
    // a new outage waits initialMs again before its first probe
    jest.advanceTimersByTime(1000);
    send(1);
    expect(inner.calls).toHaveLength(5);
  });

  it('announces a queue overflowing while export works at the next success, and its end after a quiet period', () => {
    const inner = new HeldExporter();
    const { guard, send, said } = guardOf(inner);
    guard.dropQueued(10);
    expect(said(/queue/)).toEqual([]);
    send(1);
    inner.succeed();
    expect(said(/Span queue for fake is full/)).toHaveLength(1);
    jest.advanceTimersByTime(5000);
    send(1);
    expect(said(/no longer overflowing; 10 span\(s\) were dropped/)).toHaveLength(1);
    expect(guard.stats()).toMatchObject({ dropped: 10, droppedQueueFull: 10 });
  });

  it('reports an overload that turns into an outage as part of the outage', () => {
    const inner = new HeldExporter();
    const { guard, send, said } = guardOf(inner);
    guard.dropQueued(10);
    send(2);
    inner.fail();
    jest.advanceTimersByTime(1000);
    send(1);
    inner.succeed();
    expect(said(/recovered; 12 span\(s\) were dropped/)).toHaveLength(1);
    expect(said(/queue/)).toEqual([]);
  });
});

describe('shutting down', () => {
  it(`sends every batch, ${MAX_IN_FLIGHT} at a time, the others waiting for a slot rather than failing`, () => {
    const inner = new HeldExporter();
    const { guard, send, answers } = guardOf(inner);
    guard.beginShutdown();
    for (let i = 0; i < MAX_IN_FLIGHT + 2; i++) send(1);
    expect(inner.calls).toHaveLength(MAX_IN_FLIGHT);
    inner.succeed(0);
    expect(inner.calls).toHaveLength(MAX_IN_FLIGHT + 1);
    for (let i = 1; i < MAX_IN_FLIGHT + 2; i++) inner.succeed(i);
    expect(answers).toHaveLength(MAX_IN_FLIGHT + 2);
    expect(guard.stats()).toMatchObject({ exported: MAX_IN_FLIGHT + 2, dropped: 0, failedExports: 0 });
  });

  it('while failing, drops at once within the back-off and says at shutdown what the outage lost', () => {
    const inner = new HeldExporter();
    const { guard, send, answers, said } = guardOf(inner);
    send(2);
    inner.fail();
    guard.beginShutdown();
    send(3);
    send(3);
    expect(inner.calls).toHaveLength(1);
    expect(answers).toHaveLength(3);
    guard.reportAtShutdown();
    expect(said(/still failing at shutdown; 8 span\(s\) were dropped/)).toHaveLength(1);
  });

  it('past the back-off, the first batch probes and the others wait for its verdict', async () => {
    for (const probe of ['succeeds', 'fails'] as const) {
      const inner = new HeldExporter();
      const { guard, send, answers } = guardOf(inner);
      send(1);
      inner.fail();
      jest.advanceTimersByTime(1000);
      guard.beginShutdown();
      const answered = answers.length;
      send(2);
      send(3);
      expect(inner.calls).toHaveLength(2);
      expect(answers).toHaveLength(answered);
      if (probe === 'succeeds') inner.succeed(1);
      else inner.fail(1);
      await microtasks();
      if (probe === 'succeeds') {
        expect(inner.calls).toHaveLength(3);
        inner.succeed(2);
        expect(guard.stats()).toMatchObject({ exported: 5, dropped: 1, failing: false });
      } else {
        expect(inner.calls).toHaveLength(2);
        expect(guard.stats()).toMatchObject({ exported: 0, dropped: 6, failing: true });
      }
      expect(answers).toHaveLength(answered + 2);
    }
  });

  it('counts what is still unsettled when shutdown gives up as dropped, and ignores answers after that', () => {
    const inner = new HeldExporter();
    const { guard, send, said } = guardOf(inner);
    guard.beginShutdown();
    send(4);
    guard.reportAtShutdown();
    expect(guard.stats()).toMatchObject({ dropped: 4, exported: 0 });
    expect(said(/still failing at shutdown; 4 span\(s\) were dropped/)).toHaveLength(1);
    inner.succeed();
    expect(guard.stats()).toMatchObject({ dropped: 4, exported: 0 });
  });
});
