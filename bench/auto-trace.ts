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
import { Injectable } from '@nestjs/common';
import { context, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Trace } from 'nestjs-tracing';
import { startMicroApp, type MicroApp } from './micro/apps.js';
import type { Case } from './micro/case.js';
import { DiscardingExporter } from './micro/methods.js';
import { fakeExchange, requestCase, respond } from './micro/request-cases.js';
import { runRound, timeCase } from './micro/timing.js';
import { pairedDiff, pairedRatio, summarize, type Summary } from './stats.js';

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
/** The same methods, given to autoTrace as providers (`providers: (type) => type === AutoOrders`). */
@Injectable()
class AutoOrders extends Orders {
  override async find(id: string): Promise<{ id: string; total: number }> {
    return { id, total: this.price(id) };
  }
  override price(id: string): number {
    return id.length * 10;
  }
}
/** The same again for the unsampled app: one app per class, as in a real process. */
@Injectable()
class UnsampledAutoOrders extends Orders {
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

let blackhole = 0;

/**
 * An app whose server span wraps `handler` calls; `autoOrders` is a provider of the app
 * that autoTrace patches. Also returns the context of one request of the app (its server
 * span and the app itself, as work inside a request sees them), for the per-call cases.
 */
async function startApp(
  sampleRatio: number,
  autoOrders: typeof AutoOrders | typeof UnsampledAutoOrders,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ app: MicroApp; requestCtx: Context }> {
  let captured: Context | undefined;
  const app = await startMicroApp(
    new DiscardingExporter(),
    sampleRatio,
    (req, res) => (captured ? handler(req, res) : (captured = context.active())),
    { tracing: { autoTrace: { providers: (type) => type === autoOrders } }, providers: [autoOrders] },
  );
  const { req, res } = fakeExchange(0);
  app.server.emit('request', req, res);
  res.emit('finish');
  res.emit('close');
  return { app, requestCtx: captured! };
}

function syncCase(id: string, label: string, group: string, ctx: Context, orders: Orders): Case {
  return {
    id,
    label,
    group,
    ctx,
    spans: 0,
    maxBatch: 50_000,
    run: (n) => {
      for (let i = 0; i < n; i++) blackhole += orders.price('order-42');
    },
  };
}

export async function runAutoMicro(options: {
  rounds: number;
  caseMs: number;
  log: (line: string) => void;
}): Promise<AutoMicroReport> {
  const traced = new TracedOrders();
  let served: Orders = traced;
  let answered: () => void = () => undefined;
  const sampled = await startApp(1, AutoOrders, (_req, res) => respond(res, served.find('42'), answered));
  const unsampled = await startApp(0, UnsampledAutoOrders, () => undefined);
  const auto = sampled.app.app.get(AutoOrders);
  const plain = new Orders();
  const untraced = createServer((_req, res) => respond(res, plain.find('42'), () => undefined));
  const via = (orders: Orders) => (done: () => void) => {
    served = orders;
    answered = done;
  };
  const all: Case[] = [
    requestCase('request_untraced', 'request path: untraced (harness only)', 0, untraced, (done) => done()),
    requestCase('request_trace', 'request path: server span + 2 @Trace', 3, sampled.app.server, via(traced)),
    requestCase('request_auto', 'request path: server span + 2 automatic spans', 3, sampled.app.server, via(auto)),
    syncCase('sampled_trace', '@Trace() sync, in a sampled request', 'sampled', sampled.requestCtx, traced),
    syncCase('sampled_auto', 'automatic sync, in a sampled request', 'sampled', sampled.requestCtx, auto),
    syncCase('plain', 'plain call', 'unsampled', unsampled.requestCtx, plain),
    syncCase('unsampled_trace', '@Trace(), in an unsampled request', 'unsampled', unsampled.requestCtx, traced),
    syncCase(
      'unsampled_auto',
      'automatic, in an unsampled request',
      'unsampled',
      unsampled.requestCtx,
      unsampled.app.app.get(UnsampledAutoOrders),
    ),
    syncCase('outside_auto', 'automatic, outside any traced work', 'unsampled', ROOT_CONTEXT, auto),
  ];
  try {
    const batches = new Map<string, number>();
    for (const c of all) {
      const warm = await timeCase(c, 100, Math.max(50, options.caseMs / 2));
      batches.set(c.id, Math.max(20, Math.min(c.maxBatch, Math.round(2e6 / warm.nsPerCall))));
    }
    const perRound = new Map<string, number[]>(all.map((c) => [c.id, []]));
    for (let round = 0; round < options.rounds; round++) {
      const totals = await runRound(all, round, batches, options.caseMs, {});
      for (const [id, t] of totals) perRound.get(id)!.push(t.cpuNs / t.calls);
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
    await sampled.app.close();
    await unsampled.app.close();
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
