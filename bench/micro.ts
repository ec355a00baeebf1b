/**
 * Micro benchmarks: nanoseconds per call of a method, plain, wrapped by the raw
 * OpenTelemetry API, and decorated with @Trace(), all on the same provider and batcher
 * (a Nest app's TracingModule, exporting to an exporter that discards).
 * Cases run in alternating rounds (groups rotate; within a group, cases take turns in
 * short slices); each round's figure is the process's CPU time / calls, event-loop turns
 * included (that is when the batcher exports); the report keeps the median and
 * the spread of the rounds.
 *
 * Also measured here: one span all-in, created and exported over OTLP to the sink
 * (micro/all-in.ts), and the floor for the macro benchmark (micro/floor.ts).
 */
import 'reflect-metadata';
import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import type { SinkStats } from './otlp-sink.js';
import { measureAllIn, type AllInReport } from './micro/all-in.js';
import { globalSdkTracer, rawProvider, startMicroApp, type MicroApp } from './micro/apps.js';
import type { Case, GroupSetup } from './micro/case.js';
import { measureFloor, type FloorReport } from './micro/floor.js';
import { methodCases, observed } from './micro/method-cases.js';
import { DiscardingExporter } from './micro/methods.js';
import { requestCases, tracedHandler } from './micro/request-cases.js';
import { timeCase, runRound } from './micro/timing.js';
import { pairedDiff, pairedRatio, summarize, type Summary } from './stats.js';

export type { FloorReport } from './micro/floor.js';

export interface MicroOptions {
  rounds: number;
  /** Wall time per case per round. */
  caseMs: number;
  /** Simulated requests (3 spans each) per round of the floor measurement. */
  floorRequests: number;
  /** Spans per round and side of the all-in measurement. */
  allInSpans: number;
  sinkUrl: string;
  sinkStats: () => Promise<SinkStats>;
  /** Only these groups (request, sync, child, async, observable, unsampled, attrs, reference, all_in); default all. */
  groups?: string[];
  /** Skip the floor measurement. */
  noFloor?: boolean;
  log: (line: string) => void;
}

export interface MicroCaseResult extends Summary {
  label: string;
  group: string;
}

/** The all-in figures (micro/all-in.ts) are there when the all_in group ran. */
export interface MicroReport extends Partial<AllInReport> {
  unit: 'ns/call';
  rounds: number;
  cases: Record<string, MicroCaseResult>;
  /** @Trace() sync ÷ raw startActiveSpan, both root spans, same provider and processor. */
  trace_vs_raw_ratio: number;
  trace_vs_raw: Record<string, Summary>;
  /** @Trace() with sampleRatio 0, root call, minus a plain call. */
  unsampled_overhead_ns: number;
  /** @Trace() inside an unsampled parent (what most calls are at a low sample ratio), minus a plain call. */
  unsampled_child_overhead_ns: number;
  overhead_ns: Record<string, Summary>;
  /**
   * The traced request path without HTTP: a fake request through the library's server span
   * and the two @Trace methods, against the same 3 spans made with the raw SDK by hand
   * (same provider), each minus the untraced harness. Exporter: discards.
   */
  request: { lib_vs_raw: Summary; lib_overhead_ns: Summary; raw_overhead_ns: Summary };
  /** Spans the sampled cases should have exported and what the exporter received. */
  spans: { expected: number; exported: number };
  floor?: FloorReport;
}

export async function runMicro(options: MicroOptions): Promise<MicroReport> {
  const { log } = options;
  const exporter = new DiscardingExporter();
  // started first: its provider becomes the global one, which the raw cases use
  const request = tracedHandler();
  const sampled = await startMicroApp(exporter, 1, request.handler);
  const tracer = globalSdkTracer('bench-micro');
  const unsampledSdk = rawProvider(
    new DiscardingExporter(),
    new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }),
  );
  const plainSdk = rawProvider(new DiscardingExporter());
  const all = [
    ...requestCases(sampled.server, request.answered, tracer),
    ...methodCases({
      sampled: tracer,
      unsampled: unsampledSdk.getTracer('bench-micro'),
      plain: plainSdk.getTracer('micro'),
    }),
  ].filter((c) => !options.groups || options.groups.includes(c.group));
  // @Trace() reports to the most recently started app: the unsampled group runs in one of its own
  const setups: Partial<Record<string, GroupSetup>> = {
    unsampled: async () => {
      const app: MicroApp = await startMicroApp(new DiscardingExporter(), 0);
      return () => app.close();
    },
  };
  try {
    const batches = await warmUp(all, options.caseMs, setups);
    await sampled.tracing.forceFlush();
    exporter.spans = 0;
    let expected = 0;

    const perRound = new Map<string, number[]>(all.map((c) => [c.id, []]));
    for (let round = 0; round < options.rounds; round++) {
      const totals = await runRound(all, round, batches, options.caseMs, setups);
      for (const c of all) {
        const t = totals.get(c.id)!;
        perRound.get(c.id)!.push(t.cpuNs / t.calls);
        expected += t.calls * c.spans;
      }
      log(`micro: round ${round + 1}/${options.rounds}`);
    }
    await sampled.tracing.forceFlush();

    let allIn: AllInReport | undefined;
    if (!options.groups || options.groups.includes('all_in')) {
      log('micro: one span all-in (@Trace() and raw SDK, OTLP export to the sink)');
      allIn = await measureAllIn({ ...options, spans: options.allInSpans });
    }
    let floor: FloorReport | undefined;
    if (!options.noFloor) {
      log('micro: floor (raw SDK, 3 spans per request, OTLP export to the sink)');
      floor = await measureFloor(options);
    }
    return {
      ...report(all, perRound, options.rounds),
      spans: { expected, exported: exporter.spans },
      ...allIn,
      floor,
    };
  } finally {
    await sampled.close();
    await unsampledSdk.shutdown();
    await plainSdk.shutdown();
    if (observed() === 42) log(''); // keep results observable
  }
}

/** Warms every case up (JIT), then sizes its batches to ~2 ms of CPU. */
async function warmUp(all: Case[], caseMs: number, setups: Partial<Record<string, GroupSetup>>) {
  const batches = new Map<string, number>();
  for (const group of new Set(all.map((c) => c.group))) {
    const undo = await setups[group]?.();
    for (const c of all.filter((member) => member.group === group)) {
      const warm = await timeCase(c, 100, Math.max(50, caseMs / 2));
      batches.set(c.id, Math.max(20, Math.min(c.maxBatch, Math.round(2e6 / warm.nsPerCall))));
    }
    await undo?.();
  }
  return batches;
}

function report(all: Case[], perRound: Map<string, number[]>, rounds: number) {
  const of = (id: string): number[] => perRound.get(id) ?? [];
  const cases: Record<string, MicroCaseResult> = {};
  for (const c of all) cases[c.id] = { label: c.label, group: c.group, ...summarize(of(c.id)) };
  const traceVsRaw = {
    sync: pairedRatio(of('trace'), of('raw')),
    child: pairedRatio(of('trace_child'), of('raw_child')),
    async: pairedRatio(of('trace_async'), of('raw_async')),
    attrs: pairedRatio(of('trace_attrs'), of('raw_attrs')),
    unsampled: pairedRatio(of('trace_unsampled'), of('raw_unsampled')),
  };
  const overhead = {
    trace: pairedDiff(of('trace'), of('plain')),
    raw: pairedDiff(of('raw'), of('plain')),
    trace_async: pairedDiff(of('trace_async'), of('plain_async')),
    trace_observable: pairedDiff(of('trace_observable'), of('plain_observable')),
    trace_attrs: pairedDiff(of('trace_attrs'), of('plain_attrs')),
    trace_unsampled: pairedDiff(of('trace_unsampled'), of('plain')),
    trace_unsampled_child: pairedDiff(of('trace_unsampled_child'), of('plain')),
  };
  return {
    unit: 'ns/call' as const,
    rounds,
    cases,
    trace_vs_raw_ratio: traceVsRaw.sync.median,
    trace_vs_raw: traceVsRaw,
    unsampled_overhead_ns: overhead.trace_unsampled.median,
    unsampled_child_overhead_ns: overhead.trace_unsampled_child.median,
    overhead_ns: overhead,
    request: {
      lib_vs_raw: pairedRatio(of('request_lib'), of('request_raw')),
      lib_overhead_ns: pairedDiff(of('request_lib'), of('request_untraced')),
      raw_overhead_ns: pairedDiff(of('request_raw'), of('request_untraced')),
    },
  };
}
