/**
 * Soak: does tracing keep memory flat while the collector is down, hangs, then returns?
 *
 *   npm run soak -- [--seconds 60] [--rate 1000] [--spans 10]
 *       [--pipeline guarded|stock|none] [--phases refuse,hang,recover] [--sample 5]
 *       [--gc]   (with node --expose-gc: collect garbage before each sample, so heapUsed is what is retained)
 *
 * A Nest app (Express) in this process serves GET /work/:n, each request making `--spans`
 * spans (the SERVER span, a traced service call and its traced steps); a child process
 * sends `--rate` requests/s to it, another child is the OTLP collector on one port of
 * 127.0.0.1, switched phase by phase (each `--seconds` long):
 *
 *   refuse   nothing listens on the port (ECONNREFUSED)
 *   hang     a server accepts and reads every export but never answers
 *   recover  a healthy collector that answers 200 and counts the spans it receives
 *
 * Pipelines: `guarded` is nestjs-tracing as shipped (GuardedExporter, its batcher's counted queue);
 * `stock` is the SDK's BatchSpanProcessor around the stock OTLP exporter with the same
 * batch settings and no guard (registered as the global provider, so TracingModule uses
 * it); `none` traces with no exporter at all, the baseline for the app and load alone.
 *
 * Every `--sample` seconds it prints RSS, V8 heap used and total, external and
 * arrayBuffers memory (Buffers live outside the V8 heap), and the span accounting.
 * Nothing leaves 127.0.0.1.
 */
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SpanAttr, Trace, TraceService, TracingModule } from 'nestjs-tracing';
import { BATCH } from './batch-settings.js';
import type { CollectorMode, FromCollector, FromLoad, LoadWindow, ToCollector, ToLoad } from './soak-child.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string', default: '1000' },
    spans: { type: 'string', default: '10' },
    pipeline: { type: 'string', default: 'guarded' },
    phases: { type: 'string', default: 'refuse,hang,recover' },
    sample: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    gc: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const SPANS = Math.max(2, Number(args.spans));
const SAMPLE_S = Number(args.sample);
const PIPELINE = args.pipeline as 'guarded' | 'stock' | 'none';
const PHASES = args.phases.split(',').map((p) => p.trim()) as Array<'refuse' | 'hang' | 'recover'>;
if (!['guarded', 'stock', 'none'].includes(PIPELINE))
  throw new Error(`--pipeline must be guarded, stock or none, got ${PIPELINE}`);
for (const phase of PHASES)
  if (!['refuse', 'hang', 'recover'].includes(phase)) throw new Error(`unknown phase ${phase}`);

// ---- the app ----

@Injectable()
class Work {
  @Trace()
  handle(@SpanAttr('work.n') n: number): number {
    let total = 0;
    for (let i = 0; i < SPANS - 2; i++) total += this.step(i, n);
    return total;
  }

  @Trace()
  step(@SpanAttr('work.step') i: number, n: number): number {
    return i * n;
  }
}

@Controller('work')
class WorkController {
  constructor(private readonly work: Work) {}

  @Get(':n')
  get(@Param('n') n: string) {
    return { total: this.work.handle(Number(n)) };
  }
}

// ---- span accounting for the stock pipeline (the guarded one reports its own) ----

class Counting {
  ended = 0;
  handed = 0;
  exported = 0;
  failed = 0;
  inFlight = 0;
}

function countingProcessor(counts: Counting): SpanProcessor {
  return {
    onStart: () => {},
    onEnd: () => void counts.ended++,
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

/** Only counts: every call and result goes through unchanged. */
function countingExporter(inner: SpanExporter, counts: Counting): SpanExporter {
  return {
    export(spans: ReadableSpan[], done) {
      counts.handed += spans.length;
      counts.inFlight++;
      inner.export(spans, (result) => {
        counts.inFlight--;
        if (result.code === ExportResultCode.SUCCESS) counts.exported += spans.length;
        else counts.failed += spans.length;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

// ---- children ----

function child<T>(role: string): { proc: ChildProcess; next: (type: string) => Promise<T> } {
  const proc = fork(fileURLToPath(new URL('./soak-child.js', import.meta.url)), [role], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, Array<(m: T) => void>>();
  proc.on('message', (message: T) => {
    const type = (message as { type: string }).type;
    waiting.get(type)?.shift()?.(message);
  });
  return {
    proc,
    next: (type) => new Promise<T>((resolve) => waiting.set(type, [...(waiting.get(type) ?? []), resolve])),
  };
}

const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
const pad = (value: string | number, width: number): string => String(value).padStart(width);

async function main(): Promise<void> {
  const collector = child<FromCollector>('collector');
  const ready = (await collector.next('ready')) as Extract<FromCollector, { type: 'ready' }>;
  const url = `http://127.0.0.1:${ready.port}/v1/traces`;

  const counts = new Counting();
  let stockProvider: TracerProvider | undefined;
  let stockQueue: (() => number) | undefined;
  if (PIPELINE === 'stock') {
    const processor = new BatchSpanProcessor({
      exporter: countingExporter(new OTLPTraceExporter({ url }), counts),
      // nestjs-tracing's batch defaults, so that only the guard differs
      ...BATCH,
    });
    stockProvider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'soak' }),
      spanProcessors: [countingProcessor(counts), processor],
    });
    trace.setGlobalTracerProvider(stockProvider);
    stockQueue = () => (processor as unknown as { _finishedSpans: unknown[] })._finishedSpans.length;
  }

  @Module({
    imports: [
      TracingModule.forRoot({
        serviceName: 'soak',
        exporter: PIPELINE === 'guarded' ? 'otlp' : 'none',
        otlp: { url },
        batch: BATCH,
      }),
    ],
    controllers: [WorkController],
    providers: [Work],
  })
  class SoakModule {}

  const app = await NestFactory.create(SoakModule, { logger: ['log', 'warn', 'error'] });
  await app.listen(0, '127.0.0.1');
  // longer than the load's keep-alive, so no request races a socket the server is closing
  app.getHttpServer().keepAliveTimeout = 65_000;
  const appUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/work/`;
  const tracing = app.get(TraceService);

  const load = child<FromLoad>('load');
  await load.next('ready');

  console.log(
    `soak: pipeline=${PIPELINE} rate=${RATE} req/s x ${SPANS} spans = ${RATE * SPANS} spans/s, ` +
      `${SECONDS}s per phase (${PHASES.join(' -> ')}), node ${process.version}, pid ${process.pid}` +
      (args.gc ? ', heap collected before each sample' : ''),
  );
  const header =
    `${pad('t(s)', 5)} ${pad('phase', 8)} ${pad('rss', 7)} ${pad('heapUsed', 8)} ${pad('heapTot', 7)} ${pad('external', 8)} ${pad('arrBuf', 7)}` +
    ` ${pad('req/s', 6)} ${pad('p99ms', 6)} ${pad('maxms', 6)} ${pad('ended', 9)} ${pad('exported', 9)} ${pad('dropped', 9)} ${pad('queued', 6)} ${pad('inflight', 8)} ${pad('received', 9)}`;
  console.log(`${header}\n${'-'.repeat(header.length)}  (memory in MB)`);

  const started = Date.now();
  let requestsOk = 0;
  const sample = async (phase: string): Promise<void> => {
    load.proc.send({ type: 'window' } satisfies ToLoad);
    collector.proc.send({ type: 'stats' } satisfies ToCollector);
    const [{ window }, stats] = (await Promise.all([load.next('window'), collector.next('stats')])) as [
      { window: LoadWindow },
      Extract<FromCollector, { type: 'stats' }>,
    ];
    if (args.gc) (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    requestsOk += window.ok;
    const ended = requestsOk * SPANS;
    let exported: number | string = '-';
    let dropped: number | string = '-';
    let queued: number | string = '-';
    let inFlight: number | string = '-';
    if (PIPELINE === 'guarded') {
      const s = tracing.exportStats()[0];
      if (s) {
        exported = s.exported;
        dropped = s.dropped;
        queued = s.queued;
        inFlight = s.inFlight;
      }
    } else if (PIPELINE === 'stock') {
      exported = counts.exported;
      queued = stockQueue?.() ?? 0;
      // the SDK counts its drops privately: what ended and is neither queued nor handed to the exporter
      dropped = counts.ended - counts.handed - Number(queued) + counts.failed;
      inFlight = counts.inFlight;
    }
    console.log(
      `${pad(Math.round((Date.now() - started) / 1000), 5)} ${pad(phase, 8)} ${pad(mb(m.rss), 7)} ${pad(mb(m.heapUsed), 8)} ${pad(mb(m.heapTotal), 7)}` +
        ` ${pad(mb(m.external), 8)} ${pad(mb(m.arrayBuffers), 7)} ${pad(Math.round(window.ok / SAMPLE_S), 6)} ${pad(window.p99.toFixed(1), 6)}` +
        ` ${pad(window.max.toFixed(0), 6)} ${pad(ended, 9)} ${pad(exported, 9)} ${pad(dropped, 9)} ${pad(queued, 6)} ${pad(inFlight, 8)} ${pad(stats.spans, 9)}` +
        (window.failed || window.skipped ? `  (${window.failed} failed, ${window.skipped} skipped requests)` : ''),
    );
  };

  load.proc.send({
    type: 'start',
    config: { url: appUrl, rate: RATE, connections: Number(args.connections) },
  } satisfies ToLoad);
  for (const phase of PHASES) {
    const mode: CollectorMode = phase === 'recover' ? 'ok' : phase;
    collector.proc.send({ type: 'mode', mode } satisfies ToCollector);
    await collector.next('mode');
    const phaseEnd = Date.now() + SECONDS * 1000;
    while (Date.now() < phaseEnd) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(SAMPLE_S * 1000, phaseEnd - Date.now())));
      await sample(phase);
    }
  }
  load.proc.send({ type: 'stop' } satisfies ToLoad);
  await load.next('stopped');

  const closing = Date.now();
  await app.close();
  await stockProvider?.shutdown();
  const closeMs = Date.now() - closing;
  collector.proc.send({ type: 'stats' } satisfies ToCollector);
  const final = (await collector.next('stats')) as Extract<FromCollector, { type: 'stats' }>;
  const s = tracing.exportStats()[0];
  console.log(`\napp.close() took ${closeMs} ms; the collector received ${final.spans} spans in all.`);
  if (PIPELINE === 'guarded' && s) {
    console.log(
      `guard: exported ${s.exported}, dropped ${s.dropped} (${s.droppedQueueFull} of them because the queue was full), ` +
        `still queued ${s.queued}, failing at the end: ${s.failing}`,
    );
  }
  if (PIPELINE === 'stock') {
    console.log(
      `stock: ended ${counts.ended}, handed to the exporter ${counts.handed}, exported ${counts.exported}, export failed for ${counts.failed}`,
    );
  }
  collector.proc.disconnect();
  load.proc.disconnect();
}

await main();
