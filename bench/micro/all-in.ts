/**
 * One sampled span all-in: the CPU to create it AND export it over OTLP/protobuf to the real
 * sink, for @Trace() in a TracingModule app (`exporter: 'otlp'`) and for the raw SDK
 * (TracerProvider + BatchSpanProcessor + OTLPTraceExporter, startActiveSpan + end).
 * process.cpuUsage around the calls and the forceFlush that exports them, ÷ calls, minus a
 * plain call; the sink's span count proves every span was exported.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SinkStats } from '../otlp-sink.js';
import { BATCH } from '../batch-settings.js';
import { pairedDiff, pairedRatio, roundOrder, type Summary } from '../stats.js';
import { rawProvider, startMicroApp } from './apps.js';
import { DiscardingExporter, Plain, sameAs, Traced } from './methods.js';

export interface AllInOptions {
  rounds: number;
  /** Spans per round and side. */
  spans: number;
  sinkUrl: string;
  sinkStats: () => Promise<SinkStats>;
}

export interface AllInReport {
  /** @Trace() sync, created and exported: CPU ns per span over a plain call. */
  span_all_in_ns: Summary;
  /** The same with the raw SDK by hand. */
  span_all_in_raw_ns: Summary;
  span_all_in_vs_raw: Summary;
  /** Spans each side made per round × rounds, and what the sink received from each. */
  span_all_in_spans: { expected: number; lib_received: number; raw_received: number };
}

// one full export batch per flush, as under load
const CHUNK = BATCH.maxExportBatchSize;
// spans per side before the rounds: less leaves the first round still compiling
const WARM_UP = 8192;
// a plain call is a few ns: enough of them that the µs clock resolves it
const PLAIN_REPEAT = 50;

let blackhole = 0;

const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** CPU ns per call of `calls(n)` over `total` calls, with `flush` after every chunk. */
async function nsPerCall(total: number, calls: (n: number) => void, flush?: () => Promise<void>): Promise<number> {
  const before = cpuNow();
  for (let done = 0; done < total; done += CHUNK) {
    calls(Math.min(CHUNK, total - done));
    await flush?.();
  }
  return ((cpuNow() - before) * 1000) / total;
}

export async function measureAllIn(options: AllInOptions): Promise<AllInReport> {
  const plain = new Plain();
  const traced = new Traced();
  const span = sameAs('sync');
  // the most recently started app, so @Trace() reports to it while it is open; its
  // `exporter: 'otlp'` replaces the discarding one the micro apps default to
  const app = await startMicroApp(new DiscardingExporter(), 1, undefined, {
    tracing: { exporter: 'otlp', otlp: { url: options.sinkUrl, protocol: 'http/protobuf' } },
  });
  const otlp = new OTLPTraceExporter({ url: options.sinkUrl, timeoutMillis: BATCH.exportTimeoutMillis });
  const raw = rawProvider(otlp);
  const tracer = raw.getTracer('bench-micro');
  const sides = {
    lib: (spans: number) =>
      nsPerCall(
        spans,
        (n) => {
          for (let i = 0; i < n; i++) blackhole += traced.sync(i);
        },
        () => app.tracing.forceFlush(),
      ),
    raw: (spans: number) =>
      nsPerCall(
        spans,
        (n) => {
          for (let i = 0; i < n; i++) {
            blackhole += tracer.startActiveSpan(span.name, span.options, (s) => {
              const result = plain.sync(i);
              s.end();
              return result;
            });
          }
        },
        // the processor's flush skips the export it started at a full batch; the exporter's waits for it (as the library's does)
        () => raw.forceFlush().then(() => otlp.forceFlush()),
      ),
    plain: (spans: number) =>
      nsPerCall(spans * PLAIN_REPEAT, (n) => {
        for (let i = 0; i < n; i++) blackhole += plain.sync(i);
      }),
  };
  const perRound = { lib: [] as number[], raw: [] as number[], plain: [] as number[] };
  // plain exports nothing; counted anyway, as the sink is read around every side
  const received = { lib: 0, raw: 0, plain: 0 };
  try {
    for (const side of Object.values(sides)) await side(WARM_UP); // JIT, keep-alive sockets
    for (let round = 0; round < options.rounds; round++) {
      for (const side of roundOrder(['lib', 'raw', 'plain'] as const, round)) {
        const before = (await options.sinkStats()).spans;
        perRound[side].push(await sides[side](options.spans));
        received[side] += (await options.sinkStats()).spans - before;
      }
    }
  } finally {
    await app.close();
    await raw.shutdown();
  }
  if (blackhole === 42) console.log(''); // keep results observable
  const libNs = pairedDiff(perRound.lib, perRound.plain);
  const rawNs = pairedDiff(perRound.raw, perRound.plain);
  return {
    span_all_in_ns: libNs,
    span_all_in_raw_ns: rawNs,
    span_all_in_vs_raw: pairedRatio(libNs.rounds, rawNs.rounds),
    span_all_in_spans: {
      expected: options.rounds * options.spans,
      lib_received: received.lib,
      raw_received: received.raw,
    },
  };
}
