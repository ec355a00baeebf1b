/**
 * Micro benchmarks of automatic spans (autoTrace), beside the @Trace() ones of micro.ts:
 *
 * - the request path without HTTP (fake request → server span → find → price) with the two
 *   methods traced by @Trace() and, in the variant, by autoTrace (`providers: true` patches
 *   them, no decorator); `auto_vs_trace_ratio` is what autoTrace adds over the untraced
 *   path ÷ what @Trace() adds, paired per round;
 * - one automatic span per call with sampling off (the request was not sampled), and a call
 *   outside any traced work, minus the plain call: `auto_unsampled_overhead_ns`.
 *
 * Same runtime, provider and batch processor as micro.ts (exporter discards); CPU time per
 * call (process.cpuUsage, event-loop turns included), cases of a group alternating in short
 * slices, groups rotating per round, medians of the rounds.
 */
import 'reflect-metadata';
import { context, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Trace } from '../lib/index.js';
import { traceMethodIn } from '../lib/instrumentations/auto-trace/auto-span-site.js';
import { autoSpanSpec } from '../lib/instrumentations/auto-trace/auto-span-spec.js';
import { handleTracedRequest } from '../lib/instrumentations/http-server/server-span.js';
import { resolveOptions } from '../lib/options/resolve-options.js';
import { withRuntime } from '../lib/runtime/active-runtime.js';
import { TracingRuntime } from '../lib/runtime/tracing-runtime.js';
import { DiscardingExporter } from './micro.js';
import { pairedDiff, pairedRatio, roundOrder, summarize, type Summary } from './stats.js';

export interface AutoMicroReport {
  /** (request with 2 automatic spans − untraced) ÷ (request with 2 @Trace spans − untraced), per round. */
  auto_vs_trace_ratio: number;
  /** An automatic span in an unsampled request, minus the plain call (ns). */
  auto_unsampled_overhead_ns: number;
  auto: {
    cases: Record<string, Summary & { label: string }>;
    request_overhead_ns: { auto: Summary; trace: Summary };
    sync_sampled_auto_vs_trace: Summary;
    overhead_ns: { unsampled: Summary; trace_unsampled: Summary; outside_traced_work: Summary };
  };
}

class Orders {
  async find(id: string): Promise<{ id: string; total: number }> {
    return { id, total: this.price(id) };
  }
  price(id: string): number {
    return id.length * 10;
  }
}
/** The same methods, patched by autoTrace as `providers: true` patches a provider. */
class AutoOrders extends Orders {
  override async find(id: string): Promise<{ id: string; total: number }> {
    return { id, total: this.price(id) };
  }
  override price(id: string): number {
    return id.length * 10;
  }
}
/** The same again for the unsampled runtime: one app per class, as in a real process. */
class UnsampledAutoOrders extends AutoOrders {
  override async find(id: string): Promise<{ id: string; total: number }> {
    return { id, total: this.price(id) };
  }
  override price(id: string): number {
    return id.length * 10;
  }
}
class TracedOrders extends Orders {
  @Trace()
  override async find(id: string): Promise<{ id: string; total: number }> {
    return { id, total: this.price(id) };
  }
  @Trace()
  override price(id: string): number {
    return id.length * 10;
  }
}

interface Case {
  id: string;
  label: string;
  group: string;
  ctx: Context;
  run: (n: number) => void | Promise<void>;
}

let blackhole = 0;

function fakeExchange(i: number): { req: IncomingMessage; res: ServerResponse } {
  const req = Object.assign(new EventEmitter(), {
    url: `/orders/${i}`,
    method: 'GET',
    headers: { host: '127.0.0.1:3000', 'user-agent': 'autocannon', connection: 'keep-alive' },
    httpVersion: '1.1',
    socket: { remoteAddress: '127.0.0.1', localAddress: '127.0.0.1', localPort: 3000 },
    route: { path: '/orders/:id' },
  }) as unknown as IncomingMessage;
  const res = Object.assign(new EventEmitter(), { statusCode: 200, headersSent: true, writableFinished: true });
  return { req, res: res as unknown as ServerResponse };
}

function requestCase(id: string, label: string, orders: Orders, runtime: TracingRuntime | undefined): Case {
  const server = new EventEmitter();
  let done: () => void = () => undefined;
  const listener = [
    (_req: IncomingMessage, res: ServerResponse) =>
      void orders.find('42').then(() => {
        res.emit('finish');
        res.emit('close');
        done();
      }),
  ];
  return {
    id,
    label,
    group: 'request',
    ctx: ROOT_CONTEXT,
    run: async (n) => {
      for (let i = 0; i < n; i++) {
        const { req, res } = fakeExchange(i);
        await new Promise<void>((resolve) => {
          done = resolve;
          if (runtime) handleTracedRequest(runtime, listener, req, res, server);
          else listener[0]!(req, res);
        });
      }
    },
  };
}

function cases(sampled: TracingRuntime, unsampled: TracingRuntime): Case[] {
  const plain = new Orders();
  const auto = new AutoOrders();
  const unsampledAuto = new UnsampledAutoOrders();
  const traced = new TracedOrders();
  const inRequest = (runtime: TracingRuntime) =>
    withRuntime(trace.setSpan(ROOT_CONTEXT, runtime.tracer.startSpan('request')), runtime);
  const sampledCtx = inRequest(sampled);
  const unsampledCtx = inRequest(unsampled);
  const price = (orders: Orders) => (n: number) => {
    for (let i = 0; i < n; i++) blackhole += orders.price('order-42');
  };
  const sync = (id: string, label: string, group: string, ctx: Context, orders: Orders): Case => ({
    id,
    label,
    group,
    ctx,
    run: price(orders),
  });
  return [
    requestCase('request_untraced', 'request path: untraced (harness only)', plain, undefined),
    requestCase('request_trace', 'request path: server span + 2 @Trace', traced, sampled),
    requestCase('request_auto', 'request path: server span + 2 automatic spans', auto, sampled),
    sync('sampled_trace', '@Trace() sync, in a sampled request', 'sampled', sampledCtx, traced),
    sync('sampled_auto', 'automatic sync, in a sampled request', 'sampled', sampledCtx, auto),
    sync('plain', 'plain call', 'unsampled', unsampledCtx, plain),
    sync('unsampled_trace', '@Trace(), in an unsampled request', 'unsampled', unsampledCtx, traced),
    sync('unsampled_auto', 'automatic, in an unsampled request', 'unsampled', unsampledCtx, unsampledAuto),
    sync('outside_auto', 'automatic, outside any traced work', 'unsampled', ROOT_CONTEXT, auto),
  ];
}

const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** CPU ns per call of `c` over about `ms` of CPU (bounded by 8 × ms of wall time). */
async function timeCase(c: Case, batch: number, ms: number): Promise<{ ns: number; calls: number }> {
  let calls = 0;
  const start = cpuNow();
  const wallEnd = Date.now() + ms * 8;
  do {
    const pending = context.with(c.ctx, c.run, undefined, batch);
    if (pending) await pending;
    calls += batch;
    await new Promise((resolve) => setImmediate(resolve));
  } while (cpuNow() - start < ms * 1000 && Date.now() < wallEnd);
  return { ns: ((cpuNow() - start) * 1000) / calls, calls };
}

export async function runAutoMicro(options: {
  rounds: number;
  caseMs: number;
  log: (line: string) => void;
}): Promise<AutoMicroReport> {
  const sampled = await TracingRuntime.start(
    resolveOptions({ serviceName: 'bench-auto', exporter: new DiscardingExporter() }),
  );
  const unsampled = await TracingRuntime.start(
    resolveOptions({ serviceName: 'bench-auto', exporter: new DiscardingExporter(), sampleRatio: 0 }),
  );
  const patched: Array<[TracingRuntime, typeof AutoOrders]> = [
    [sampled, AutoOrders],
    [unsampled, UnsampledAutoOrders],
  ];
  const undo = patched.flatMap(([runtime, target]) =>
    (['find', 'price'] as const).map((key) =>
      traceMethodIn(runtime, target, key, autoSpanSpec(target, key, 'provider')),
    ),
  );
  const all = cases(sampled, unsampled);
  try {
    const batches = new Map<string, number>();
    for (const c of all) {
      const warm = await timeCase(c, 100, Math.max(50, options.caseMs / 2));
      batches.set(c.id, Math.max(20, Math.min(50_000, Math.round(2e6 / warm.ns))));
    }
    const perRound = new Map<string, number[]>(all.map((c) => [c.id, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const group of roundOrder([...new Set(all.map((c) => c.group))], round)) {
        const members = roundOrder(
          all.filter((c) => c.group === group),
          round,
        );
        const totals = new Map<string, { ns: number; calls: number }>();
        for (let slice = 0; slice < 8; slice++) {
          for (const c of slice % 2 === 0 ? members : [...members].reverse()) {
            const { ns, calls } = await timeCase(c, batches.get(c.id)!, options.caseMs / 8);
            const t = totals.get(c.id) ?? { ns: 0, calls: 0 };
            totals.set(c.id, { ns: t.ns + ns * calls, calls: t.calls + calls });
          }
        }
        for (const [id, t] of totals) perRound.get(id)!.push(t.ns / t.calls);
      }
      options.log(`micro auto: round ${round + 1}/${options.rounds}`);
    }
    const r = (id: string) => perRound.get(id)!;
    const autoRequest = pairedDiff(r('request_auto'), r('request_untraced'));
    const traceRequest = pairedDiff(r('request_trace'), r('request_untraced'));
    const ratio = pairedRatio(autoRequest.rounds, traceRequest.rounds);
    const unsampledOverhead = pairedDiff(r('unsampled_auto'), r('plain'));
    return {
      auto_vs_trace_ratio: ratio.median,
      auto_unsampled_overhead_ns: unsampledOverhead.median,
      auto: {
        cases: Object.fromEntries(all.map((c) => [c.id, { label: c.label, ...summarize(r(c.id)) }])),
        request_overhead_ns: { auto: autoRequest, trace: traceRequest },
        sync_sampled_auto_vs_trace: pairedRatio(r('sampled_auto'), r('sampled_trace')),
        overhead_ns: {
          unsampled: unsampledOverhead,
          trace_unsampled: pairedDiff(r('unsampled_trace'), r('plain')),
          outside_traced_work: pairedDiff(r('outside_auto'), r('plain')),
        },
      },
    };
  } finally {
    for (const release of undo) release?.();
    await sampled.shutdown();
    await unsampled.shutdown();
    if (blackhole === 42) options.log('');
  }
}

export function printAutoMicro(report: AutoMicroReport): void {
  const f = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
  const range = (s: Summary, digits = 0) => `${f(s.min, digits)}–${f(s.max, digits)}`;
  const a = report.auto;
  console.log('\n## micro: automatic spans (autoTrace), CPU ns per call, median of rounds\n');
  for (const c of Object.values(a.cases)) console.log(`${c.label.padEnd(52)} ${f(c.median, 1).padStart(9)}`);
  console.log(
    `\nRequest path: 2 automatic spans add ${f(a.request_overhead_ns.auto.median)} ns, 2 @Trace spans ` +
      `${f(a.request_overhead_ns.trace.median)} ns; auto ÷ @Trace ${f(report.auto_vs_trace_ratio, 3)} ` +
      `(target ≤ 1; sync span in a sampled request ${f(a.sync_sampled_auto_vs_trace.median, 3)}).`,
  );
  console.log(
    `Sampling off: an automatic span costs ${f(report.auto_unsampled_overhead_ns)} ns over the plain call ` +
      `(${range(a.overhead_ns.unsampled)}; target ≤ 150; @Trace() ${f(a.overhead_ns.trace_unsampled.median)} ns); ` +
      `outside any traced work ${f(a.overhead_ns.outside_traced_work.median)} ns.`,
  );
}
