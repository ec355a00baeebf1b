/**
 * Micro benchmarks: nanoseconds per call of a method, plain, wrapped by the raw
 * OpenTelemetry API, and decorated with @Trace(), all on the same TracerProvider and
 * BatchSpanProcessor (the library's own runtime, exporting to an exporter that discards).
 * Cases run in alternating rounds (groups rotate; within a group, cases take turns in
 * short slices); each round's figure is the process's CPU time / calls, event-loop turns
 * included (that is when the batch processor exports); the report keeps the median and
 * the spread of the rounds.
 *
 * Also measured here: the floor for the macro benchmark, i.e. the CPU the raw SDK spends
 * creating the same 3 spans a traced request has and exporting them over OTLP/protobuf
 * to the sink (process.cpuUsage around create + forceFlush).
 */
import 'reflect-metadata';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Context,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { of, type Observable } from 'rxjs';
import { SpanAttr, Trace } from '../lib/index.js';
import { handleTracedRequest } from '../lib/instrumentations/http-server/server-span.js';
import { resolveOptions } from '../lib/options/resolve-options.js';
import { withRuntime } from '../lib/runtime/active-runtime.js';
import { TracingRuntime } from '../lib/runtime/tracing-runtime.js';
import { BATCH } from './batch-settings.js';
import { pairedDiff, pairedRatio, roundOrder, summarize, type Summary } from './stats.js';

export interface MicroOptions {
  rounds: number;
  /** Wall time per case per round. */
  caseMs: number;
  /** Simulated requests (3 spans each) per round of the floor measurement. */
  floorRequests: number;
  sinkUrl: string;
  /** Only these groups (request, sync, child, async, observable, unsampled, attrs, reference); default all. */
  groups?: string[];
  /** Skip the floor measurement. */
  noFloor?: boolean;
  log: (line: string) => void;
}

export interface MicroCaseResult extends Summary {
  label: string;
  group: string;
}

export interface MicroReport {
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

export interface FloorReport {
  unit: 'µs CPU per request';
  spans_per_request: 3;
  /** Raw SDK: create the 3 spans of a request and export them over OTLP/protobuf. */
  create_and_export_us: Summary;
  /** Raw SDK: create the 3 spans, export to an exporter that discards. */
  create_only_us: Summary;
  export_us: Summary;
  spans_received: number;
  spans_expected: number;
}

/** A SpanExporter that answers SUCCESS at once and keeps nothing. */
export class DiscardingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

// ---- the methods under test -------------------------------------------------------

class Plain {
  sync(i: number): number {
    return i + 1;
  }
  async async(i: number): Promise<number> {
    return i + 1;
  }
  obs(i: number): Observable<number> {
    return of(i);
  }
  attrs(id: string, qty: number): number {
    return qty + id.length;
  }
}

class Traced {
  @Trace()
  sync(i: number): number {
    return i + 1;
  }
  @Trace()
  async async(i: number): Promise<number> {
    return i + 1;
  }
  @Trace()
  obs(i: number): Observable<number> {
    return of(i);
  }
  @Trace()
  attrs(@SpanAttr('order.id') id: string, @SpanAttr('order.qty') qty: number): number {
    return qty + id.length;
  }
}

/** The macro app's service, three ways: untraced, @Trace(), and raw startActiveSpan by hand. */
class PlainOrders {
  async find(id: string): Promise<{ id: string; total: number }> {
    return { id, total: this.price(id) };
  }
  price(id: string): number {
    return id.length * 10;
  }
}

class TracedOrders {
  @Trace()
  async find(id: string): Promise<{ id: string; total: number }> {
    return { id, total: this.price(id) };
  }
  @Trace()
  price(id: string): number {
    return id.length * 10;
  }
}

class RawOrders {
  private static readonly FIND: SpanOptions = {
    kind: SpanKind.INTERNAL,
    attributes: { 'code.function.name': 'TracedOrders.find', 'code.namespace': 'TracedOrders' },
  };
  private static readonly PRICE: SpanOptions = {
    kind: SpanKind.INTERNAL,
    attributes: { 'code.function.name': 'TracedOrders.price', 'code.namespace': 'TracedOrders' },
  };
  constructor(private readonly tracer: Tracer) {}
  find(id: string): Promise<{ id: string; total: number }> {
    return this.tracer.startActiveSpan('TracedOrders.find', RawOrders.FIND, async (span) => {
      try {
        return { id, total: this.price(id) };
      } finally {
        span.end();
      }
    });
  }
  price(id: string): number {
    return this.tracer.startActiveSpan('TracedOrders.price', RawOrders.PRICE, (span) => {
      try {
        return id.length * 10;
      } finally {
        span.end();
      }
    });
  }
}

type FakeRequest = IncomingMessage & { route: { path: string } };

/** What the HTTP server hands its 'request' listeners, as far as a server span reads it. */
function fakeExchange(i: number): { req: FakeRequest; res: ServerResponse } {
  const req = Object.assign(new EventEmitter(), {
    url: `/orders/${i}`,
    method: 'GET',
    headers: { host: '127.0.0.1:3000', 'user-agent': 'autocannon', connection: 'keep-alive' },
    httpVersion: '1.1',
    socket: { remoteAddress: '127.0.0.1', localAddress: '127.0.0.1', localPort: 3000 },
    route: { path: '/orders/:id' },
  }) as unknown as FakeRequest;
  const res = Object.assign(new EventEmitter(), {
    statusCode: 200,
    headersSent: true,
    writableFinished: true,
  }) as unknown as ServerResponse;
  return { req, res };
}

/** The framework's part: run the handler, then send the response ('finish', then 'close'). */
function respond(res: ServerResponse, work: Promise<unknown>, done: () => void): void {
  void work.then(() => {
    res.emit('finish');
    res.emit('close');
    done();
  });
}

/** The server span the raw SDK user writes by hand: the same attributes and end-of-request updates. */
function rawServerRequest(
  tracer: Tracer,
  orders: RawOrders,
  req: FakeRequest,
  res: ServerResponse,
  done: () => void,
): void {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const attributes: Attributes = {
    'http.request.method': req.method!,
    'url.path': req.url!,
    'url.scheme': 'http',
    'server.address': '127.0.0.1',
    'server.port': 3000,
    'client.address': req.socket.remoteAddress ?? '',
    'user_agent.original': req.headers['user-agent'] ?? '',
    'network.protocol.version': req.httpVersion,
  };
  tracer.startActiveSpan('GET', { kind: SpanKind.SERVER, attributes }, parent, (server) => {
    res.once('finish', () => {
      server.updateName(`GET ${req.route.path}`);
      server.setAttribute('http.route', req.route.path);
      server.setAttribute('http.response.status_code', res.statusCode);
      server.end();
    });
    respond(res, orders.find('42'), done);
  });
}

/** What @Trace() puts on a span, given to the raw API too, so both make the same span. */
function sameAs(method: string): { name: string; options: SpanOptions } {
  const qualified = `Traced.${method}`;
  return {
    name: qualified,
    options: { kind: SpanKind.INTERNAL, attributes: { 'code.function.name': qualified, 'code.namespace': 'Traced' } },
  };
}

let blackhole = 0;
const noop = (): void => {};

interface Case {
  id: string;
  label: string;
  group: string;
  ctx: Context;
  /** Spans a call exports (sampled cases), to check nothing was dropped. */
  spans: number;
  maxBatch: number;
  run: (n: number) => void | Promise<void>;
}

function cases(sampled: TracingRuntime, unsampled: TracingRuntime): Case[] {
  const plain = new Plain();
  const traced = new Traced();
  const sampledCtx = withRuntime(ROOT_CONTEXT, sampled);
  const sampledParent = sampled.tracer.startSpan('parent');
  const sampledChildCtx = trace.setSpan(sampledCtx, sampledParent);
  const unsampledCtx = withRuntime(ROOT_CONTEXT, unsampled);
  const unsampledParent = unsampled.tracer.startSpan('parent');
  const unsampledChildCtx = trace.setSpan(unsampledCtx, unsampledParent);
  const syncSpan = sameAs('sync');
  const asyncSpan = sameAs('async');
  const attrsSpan = sameAs('attrs');
  const observer = { next: (v: number) => void (blackhole += v) };
  const SPANS = 2000;
  const LOTS = 50_000;

  const rawSync = (tracer: Tracer) => (n: number) => {
    for (let i = 0; i < n; i++) {
      blackhole += tracer.startActiveSpan(syncSpan.name, syncSpan.options, (span) => {
        const result = plain.sync(i);
        span.end();
        return result;
      });
    }
  };
  const traceSync = (n: number) => {
    for (let i = 0; i < n; i++) blackhole += traced.sync(i);
  };
  const plainSync = (n: number) => {
    for (let i = 0; i < n; i++) blackhole += plain.sync(i);
  };

  const plainOrders = new PlainOrders();
  const tracedOrders = new TracedOrders();
  const rawOrders = new RawOrders(sampled.tracer);
  const server = new EventEmitter();
  const plainListener = [(_req: IncomingMessage, res: ServerResponse) => respond(res, plainOrders.find('42'), noop)];
  let current: () => void = noop;
  const tracedListener = [
    (_req: IncomingMessage, res: ServerResponse) => respond(res, tracedOrders.find('42'), current),
  ];
  const plainProvider = rawProvider(new DiscardingExporter());
  const plainTracer = plainProvider.getTracer('micro');

  return [
    {
      id: 'request_untraced',
      label: 'request path: untraced (harness only)',
      group: 'request',
      ctx: ROOT_CONTEXT,
      spans: 0,
      maxBatch: 600,
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          const { req, res } = fakeExchange(i);
          await new Promise<void>((resolve) => {
            plainListener[0]!(req, res);
            resolve();
          });
        }
      },
    },
    {
      id: 'request_raw',
      label: 'request path: raw SDK by hand, 3 spans',
      group: 'request',
      ctx: ROOT_CONTEXT,
      spans: 3,
      maxBatch: 600,
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          const { req, res } = fakeExchange(i);
          await new Promise<void>((resolve) => rawServerRequest(sampled.tracer, rawOrders, req, res, resolve));
        }
      },
    },
    {
      id: 'request_lib',
      label: 'request path: nestjs-tracing server span + 2 @Trace',
      group: 'request',
      ctx: ROOT_CONTEXT,
      spans: 3,
      maxBatch: 600,
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          const { req, res } = fakeExchange(i);
          await new Promise<void>((resolve) => {
            current = resolve;
            handleTracedRequest(sampled, tracedListener, req, res, server);
          });
        }
      },
    },
    {
      id: 'ref_plain_provider',
      label: 'ref: raw startActiveSpan, plain SDK provider',
      group: 'reference',
      ctx: sampledCtx,
      spans: 0,
      maxBatch: SPANS,
      run: rawSync(plainTracer),
    },
    {
      id: 'plain',
      label: 'plain method call',
      group: 'sync',
      ctx: sampledCtx,
      spans: 0,
      maxBatch: LOTS,
      run: plainSync,
    },
    {
      id: 'raw',
      label: 'raw startActiveSpan … end',
      group: 'sync',
      ctx: sampledCtx,
      spans: 1,
      maxBatch: SPANS,
      run: rawSync(sampled.tracer),
    },
    { id: 'trace', label: '@Trace() sync', group: 'sync', ctx: sampledCtx, spans: 1, maxBatch: SPANS, run: traceSync },
    {
      id: 'raw_child',
      label: 'raw startActiveSpan, in a parent span',
      group: 'child',
      ctx: sampledChildCtx,
      spans: 1,
      maxBatch: SPANS,
      run: rawSync(sampled.tracer),
    },
    {
      id: 'trace_child',
      label: '@Trace() sync, in a parent span',
      group: 'child',
      ctx: sampledChildCtx,
      spans: 1,
      maxBatch: SPANS,
      run: traceSync,
    },
    {
      id: 'plain_async',
      label: 'plain async method, awaited',
      group: 'async',
      ctx: sampledCtx,
      spans: 0,
      maxBatch: LOTS,
      run: async (n) => {
        for (let i = 0; i < n; i++) blackhole += await plain.async(i);
      },
    },
    {
      id: 'raw_async',
      label: 'raw startActiveSpan(async …), awaited',
      group: 'async',
      ctx: sampledCtx,
      spans: 1,
      maxBatch: SPANS,
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          blackhole += await sampled.tracer.startActiveSpan(asyncSpan.name, asyncSpan.options, async (span) => {
            const result = await plain.async(i);
            span.end();
            return result;
          });
        }
      },
    },
    {
      id: 'trace_async',
      label: '@Trace() async, awaited',
      group: 'async',
      ctx: sampledCtx,
      spans: 1,
      maxBatch: SPANS,
      run: async (n) => {
        for (let i = 0; i < n; i++) blackhole += await traced.async(i);
      },
    },
    {
      id: 'plain_observable',
      label: 'plain Observable, subscribed',
      group: 'observable',
      ctx: sampledCtx,
      spans: 0,
      maxBatch: LOTS,
      run: (n) => {
        for (let i = 0; i < n; i++) plain.obs(i).subscribe(observer);
      },
    },
    {
      id: 'trace_observable',
      label: '@Trace() Observable, subscribed',
      group: 'observable',
      ctx: sampledCtx,
      spans: 1,
      maxBatch: SPANS,
      run: (n) => {
        for (let i = 0; i < n; i++) traced.obs(i).subscribe(observer);
      },
    },
    {
      id: 'raw_unsampled',
      label: 'raw startActiveSpan, sampleRatio 0',
      group: 'unsampled',
      ctx: unsampledCtx,
      spans: 0,
      maxBatch: SPANS,
      run: rawSync(unsampled.tracer),
    },
    {
      id: 'trace_unsampled',
      label: '@Trace(), sampleRatio 0 (root)',
      group: 'unsampled',
      ctx: unsampledCtx,
      spans: 0,
      maxBatch: SPANS,
      run: traceSync,
    },
    {
      id: 'trace_unsampled_child',
      label: '@Trace(), in an unsampled parent',
      group: 'unsampled',
      ctx: unsampledChildCtx,
      spans: 0,
      maxBatch: SPANS,
      run: traceSync,
    },
    {
      id: 'plain_attrs',
      label: 'plain method, 2 args',
      group: 'attrs',
      ctx: sampledCtx,
      spans: 0,
      maxBatch: LOTS,
      run: (n) => {
        for (let i = 0; i < n; i++) blackhole += plain.attrs('order-42', i);
      },
    },
    {
      id: 'raw_attrs',
      label: 'raw startActiveSpan + 2 setAttribute',
      group: 'attrs',
      ctx: sampledCtx,
      spans: 1,
      maxBatch: SPANS,
      run: (n) => {
        for (let i = 0; i < n; i++) {
          blackhole += sampled.tracer.startActiveSpan(attrsSpan.name, attrsSpan.options, (span) => {
            span.setAttribute('order.id', 'order-42');
            span.setAttribute('order.qty', i);
            const result = plain.attrs('order-42', i);
            span.end();
            return result;
          });
        }
      },
    },
    {
      id: 'trace_attrs',
      label: '@Trace() + 2 @SpanAttr',
      group: 'attrs',
      ctx: sampledCtx,
      spans: 1,
      maxBatch: SPANS,
      run: (n) => {
        for (let i = 0; i < n; i++) blackhole += traced.attrs('order-42', i);
      },
    },
    {
      id: 'ref_context_with',
      label: 'ref: context.with alone',
      group: 'reference',
      ctx: sampledCtx,
      spans: 0,
      maxBatch: LOTS,
      run: (n) => {
        for (let i = 0; i < n; i++) blackhole += context.with(sampledChildCtx, plain.sync, plain, i);
      },
    },
    {
      id: 'ref_start_span',
      label: 'ref: raw startSpan + end (not made active)',
      group: 'reference',
      ctx: sampledCtx,
      spans: 1,
      maxBatch: SPANS,
      run: (n) => {
        for (let i = 0; i < n; i++) {
          const span = sampled.tracer.startSpan(syncSpan.name, syncSpan.options);
          blackhole += plain.sync(i);
          span.end();
        }
      },
    },
  ];
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * Runs `c` in batches until it has used about `ms` of CPU; returns CPU ns per call over
 * everything, event-loop turns included (that is when the batch processor exports).
 * CPU time, not wall time: on a shared machine the wall clock also counts the time
 * other processes had the core. Bounded in wall time too (8 × ms).
 */
async function timeCase(
  c: Case,
  batch: number,
  ms: number,
): Promise<{ nsPerCall: number; wallNsPerCall: number; calls: number }> {
  let calls = 0;
  const cpuStart = cpuNow();
  const wallStart = process.hrtime.bigint();
  const cpuBudget = ms * 1000;
  const wallBudget = BigInt(Math.round(ms * 8e6));
  let cpu: number;
  let wall: bigint;
  do {
    const pending = context.with(c.ctx, c.run, undefined, batch);
    if (pending) await pending;
    calls += batch;
    // the batch processor exports on the next turns; that time counts too
    await nextTurn();
    cpu = cpuNow() - cpuStart;
    wall = process.hrtime.bigint() - wallStart;
  } while (cpu < cpuBudget && wall < wallBudget);
  return { nsPerCall: (cpu * 1000) / calls, wallNsPerCall: Number(wall) / calls, calls };
}

/** Slices per case per round: a group's members take turns this many times within a round. */
const SLICES = 8;

/**
 * Groups rotate from round to round; within a round the members of a group (a baseline
 * and what is compared with it) take turns in short slices, ABCABC…, the order reversed
 * every other slice, so the ratios between them are taken over the same stretch of
 * machine weather, not a few hundred milliseconds apart.
 */
async function runRound(
  all: Case[],
  round: number,
  batches: Map<string, number>,
  caseMs: number,
): Promise<Map<string, { cpuNs: number; calls: number }>> {
  const totals = new Map<string, { cpuNs: number; calls: number }>();
  const groups = roundOrder([...new Set(all.map((c) => c.group))], round);
  for (const group of groups) {
    const members = roundOrder(
      all.filter((c) => c.group === group),
      round,
    );
    for (let slice = 0; slice < SLICES; slice++) {
      for (const c of slice % 2 === 0 ? members : [...members].reverse()) {
        const { nsPerCall, calls } = await timeCase(c, batches.get(c.id)!, caseMs / SLICES);
        const t = totals.get(c.id) ?? { cpuNs: 0, calls: 0 };
        t.cpuNs += nsPerCall * calls;
        t.calls += calls;
        totals.set(c.id, t);
      }
    }
  }
  return totals;
}

export async function runMicro(options: MicroOptions): Promise<MicroReport> {
  const { log } = options;
  const exporter = new DiscardingExporter();
  const sampled = await TracingRuntime.start(resolveOptions({ serviceName: 'bench-micro', exporter }));
  const unsampled = await TracingRuntime.start(
    resolveOptions({ serviceName: 'bench-micro', exporter: new DiscardingExporter(), sampleRatio: 0 }),
  );
  const all = cases(sampled, unsampled).filter((c) => !options.groups || options.groups.includes(c.group));
  try {
    // warm up every case (JIT), then size batches to ~4 ms
    const batches = new Map<string, number>();
    for (const c of all) {
      const warm = await timeCase(c, 100, Math.max(50, options.caseMs / 2));
      batches.set(c.id, Math.max(20, Math.min(c.maxBatch, Math.round(2e6 / warm.nsPerCall))));
    }
    await sampled.forceFlush();
    exporter.spans = 0;
    let expected = 0;

    const perRound = new Map<string, number[]>(all.map((c) => [c.id, []]));
    for (let round = 0; round < options.rounds; round++) {
      const totals = await runRound(all, round, batches, options.caseMs);
      for (const c of all) {
        const t = totals.get(c.id)!;
        perRound.get(c.id)!.push(t.cpuNs / t.calls);
        expected += t.calls * c.spans;
      }
      log(`micro: round ${round + 1}/${options.rounds}`);
    }
    await sampled.forceFlush();

    const rounds = (id: string): number[] => perRound.get(id) ?? [];
    const result: Record<string, MicroCaseResult> = {};
    for (const c of all) result[c.id] = { label: c.label, group: c.group, ...summarize(rounds(c.id)) };

    const traceVsRaw = {
      sync: pairedRatio(rounds('trace'), rounds('raw')),
      child: pairedRatio(rounds('trace_child'), rounds('raw_child')),
      async: pairedRatio(rounds('trace_async'), rounds('raw_async')),
      attrs: pairedRatio(rounds('trace_attrs'), rounds('raw_attrs')),
      unsampled: pairedRatio(rounds('trace_unsampled'), rounds('raw_unsampled')),
    };
    const request = {
      lib_vs_raw: pairedRatio(rounds('request_lib'), rounds('request_raw')),
      lib_overhead_ns: pairedDiff(rounds('request_lib'), rounds('request_untraced')),
      raw_overhead_ns: pairedDiff(rounds('request_raw'), rounds('request_untraced')),
    };
    const overhead = {
      trace: pairedDiff(rounds('trace'), rounds('plain')),
      raw: pairedDiff(rounds('raw'), rounds('plain')),
      trace_async: pairedDiff(rounds('trace_async'), rounds('plain_async')),
      trace_observable: pairedDiff(rounds('trace_observable'), rounds('plain_observable')),
      trace_attrs: pairedDiff(rounds('trace_attrs'), rounds('plain_attrs')),
      trace_unsampled: pairedDiff(rounds('trace_unsampled'), rounds('plain')),
      trace_unsampled_child: pairedDiff(rounds('trace_unsampled_child'), rounds('plain')),
    };

    let floor: FloorReport | undefined;
    if (!options.noFloor) {
      log('micro: floor (raw SDK, 3 spans per request, OTLP export to the sink)');
      floor = await measureFloor(options);
    }

    return {
      unit: 'ns/call',
      rounds: options.rounds,
      cases: result,
      trace_vs_raw_ratio: traceVsRaw.sync.median,
      trace_vs_raw: traceVsRaw,
      unsampled_overhead_ns: overhead.trace_unsampled.median,
      unsampled_child_overhead_ns: overhead.trace_unsampled_child.median,
      overhead_ns: overhead,
      request,
      spans: { expected, exported: exporter.spans },
      floor,
    };
  } finally {
    await sampled.shutdown();
    await unsampled.shutdown();
    if (blackhole === 42) log(''); // keep results observable
  }
}

// ---- the floor --------------------------------------------------------------------

const FIND = sameAs('find');
const PRICE = sameAs('price');

/** The spans a traced `GET /orders/:id` makes, with the attributes the library sets, by hand. */
function rawRequest(tracer: Tracer, i: number): void {
  const attributes: Attributes = {
    'http.request.method': 'GET',
    'url.path': `/orders/${i}`,
    'url.scheme': 'http',
    'server.address': '127.0.0.1',
    'server.port': 3000,
    'client.address': '127.0.0.1',
    'user_agent.original': '',
    'network.protocol.version': '1.1',
  };
  tracer.startActiveSpan('GET', { kind: SpanKind.SERVER, attributes }, (server) => {
    tracer.startActiveSpan(FIND.name, FIND.options, (find) => {
      tracer.startActiveSpan(PRICE.name, PRICE.options, (price) => price.end());
      find.end();
    });
    server.updateName('GET /orders/:id');
    server.setAttribute('http.route', '/orders/:id');
    server.setAttribute('http.response.status_code', 200);
    server.end();
  });
}

function rawProvider(exporter: SpanExporter): TracerProvider {
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-floor' }),
    spanProcessors: [new BatchSpanProcessor({ exporter, ...BATCH })],
  });
}

async function cpuPerRequest(provider: TracerProvider, requests: number): Promise<number> {
  const tracer = provider.getTracer('floor');
  const chunk = 170; // 510 spans: one export batch per flush, like the macro's 512
  const before = process.cpuUsage();
  for (let done = 0; done < requests; done += chunk) {
    const n = Math.min(chunk, requests - done);
    for (let i = 0; i < n; i++) rawRequest(tracer, done + i);
    await provider.forceFlush();
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / requests;
}

async function measureFloor(options: MicroOptions): Promise<FloorReport> {
  let received = 0;
  const otlp = new OTLPTraceExporter({ url: options.sinkUrl, timeoutMillis: BATCH.exportTimeoutMillis });
  const counting: SpanExporter = {
    export: (spans, done) =>
      otlp.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) received += spans.length;
        done(result);
      }),
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush(),
  };
  const exported = rawProvider(counting);
  const discarded = rawProvider(new DiscardingExporter());
  try {
    await cpuPerRequest(exported, Math.min(2000, options.floorRequests)); // warm-up, keep-alive socket
    await cpuPerRequest(discarded, Math.min(2000, options.floorRequests));
    received = 0;
    const withExport: number[] = [];
    const createOnly: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      // alternate which goes first
      if (round % 2 === 0) {
        withExport.push(await cpuPerRequest(exported, options.floorRequests));
        createOnly.push(await cpuPerRequest(discarded, options.floorRequests));
      } else {
        createOnly.push(await cpuPerRequest(discarded, options.floorRequests));
        withExport.push(await cpuPerRequest(exported, options.floorRequests));
      }
    }
    return {
      unit: 'µs CPU per request',
      spans_per_request: 3,
      create_and_export_us: summarize(withExport),
      create_only_us: summarize(createOnly),
      export_us: pairedDiff(withExport, createOnly),
      spans_received: received,
      spans_expected: options.rounds * options.floorRequests * 3,
    };
  } finally {
    await exported.shutdown();
    await discarded.shutdown();
  }
}
