/**
 * Macro benchmark: the same Nest app (GET /orders/:id → find → price) served by each
 * target in its own process on 127.0.0.1, loaded by autocannon from this process
 * (which does nothing else meanwhile). Targets alternate within every round; each run
 * is preceded by a warm-up, and the target's batch processor is flushed before and
 * after it, so the CPU of exporting the run's spans is charged to the run.
 *
 * Per run: req/s, p50/p99 latency (ms, autocannon), server CPU µs per request
 * (process.cpuUsage() in the server, asked over IPC), spans per request received by
 * the sink. Ratios to untraced are taken round by round, then the median is kept.
 */
import autocannon, { type Result as LoadResult } from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pairedDiff, pairedRatio, roundOrder, summarize, type Summary } from './stats.js';
import { OURS, RAW, TARGETS, UNTRACED, type TargetSpec } from './targets/index.js';
import type { Platform } from './targets/serve.js';
import type { SinkStats } from './otlp-sink.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SinkControl {
  url: string;
  stats(): Promise<SinkStats>;
}

export interface MacroOptions {
  platforms: Platform[];
  targets: string[];
  /** Targets outside bench/targets (absolute file), e.g. to A/B a patched copy of the library. */
  extraTargets?: TargetSpec[];
  rounds: number;
  warmupSec: number;
  /** Warm-up of each target's first run (JIT, connection pools). */
  firstWarmupSec: number;
  durationSec: number;
  connections: number;
  /** The Node binary the targets run on. */
  node: string;
  sink: SinkControl;
  /**
   * Directory for CPU profiles of every measured run (V8's sampling profiler, what
   * --cpu-prof uses, started and stopped around the run); such figures are not comparable.
   */
  cpuProfDir?: string;
  log: (line: string) => void;
}

export interface RunResult {
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  cpu_us_per_req: number;
  spans_per_req: number;
  errors: number;
  non2xx: number;
}

export interface TargetReport {
  label: string;
  peer: boolean;
  note?: string;
  /** Spans one request makes, counted at the sink with the app otherwise idle. */
  spans_per_request_probe: number;
  /** Spans per request received during the measured runs; less than the probe means the processor dropped spans. */
  spans_per_request_under_load: number;
  rps: Summary;
  p50_ms: Summary;
  p99_ms: Summary;
  cpu_us_per_req: Summary;
  /** req/s ÷ untraced req/s, per round. */
  ratio: Summary;
  /**
   * Untraced CPU µs per request ÷ this target's, per round: the throughput ratio a server
   * that has a core to itself would see; steadier than req/s on a shared machine.
   */
  cpu_ratio: Summary;
  /** CPU µs per request minus untraced's, per round. */
  extra_cpu_us: Summary;
  /** This target's extra CPU µs per request ÷ raw-otel's, per round: what it costs beyond untraced against the raw SDK by hand. */
  extra_vs_raw: Summary;
  runs: RunResult[];
}

export interface PlatformReport {
  /** nestjs-tracing req/s ÷ untraced req/s (median of per-round ratios). */
  ratio: number;
  /** nestjs-tracing's extra CPU µs per request over untraced. */
  extra_cpu_us: number;
  /** untraced CPU/req ÷ nestjs-tracing CPU/req (median of per-round ratios). */
  cpu_ratio: number;
  /** nestjs-tracing's extra CPU µs per request ÷ raw-otel's (median of per-round ratios), when raw-otel ran. */
  extra_vs_raw: number;
  /** The raw-SDK-by-hand reference's throughput ratio, when it ran. */
  raw_otel_ratio: number | null;
  /** ratio of each peer measured in the same rounds. */
  peers: Record<string, number>;
  targets: Record<string, TargetReport>;
  /** Targets that did not start or answered wrong, and why. */
  failed: Record<string, string>;
}

export interface MacroReport {
  connections: number;
  rounds: number;
  duration_s: number;
  warmup_s: number;
  express?: PlatformReport;
  fastify?: PlatformReport;
}

interface Server {
  spec: TargetSpec;
  child: ChildProcess;
  port: number;
  url: string;
  exited: Promise<void>;
}

function request<T extends { type: string }>(
  child: ChildProcess,
  message: { type: string },
  reply: string,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no '${reply}' from ${child.pid} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: T): void => {
      if (m?.type !== reply) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

function childEnv(platform: Platform, sinkUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // the targets configure tracing in code; no OTEL_* variable of the caller may change that
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OTEL_')) env[key] = value;
  return { ...env, BENCH_PLATFORM: platform, BENCH_OTLP_URL: sinkUrl, NODE_ENV: 'production' };
}

async function startServer(spec: TargetSpec, platform: Platform, options: MacroOptions): Promise<Server> {
  const execArgv: string[] = [];
  if (spec.preload) execArgv.push('--import', pathToImport(path.resolve(here, 'targets', spec.preload)));
  const child = fork(path.resolve(here, 'targets', spec.file), [], {
    execPath: options.node,
    execArgv,
    env: childEnv(platform, options.sink.url),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await Promise.race([
    new Promise<{ port: number }>((resolve) => {
      const onMessage = (m: { type: string; port: number }): void => {
        if (m?.type !== 'ready') return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
    }),
    exited.then(() => {
      throw new Error(`target ${spec.id} (${platform}) exited before listening`);
    }),
  ]);
  return { spec, child, port: ready.port, url: `http://127.0.0.1:${ready.port}/orders/42`, exited };
}

function pathToImport(file: string): string {
  return new URL(`file://${file}`).href;
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  server.child.send({ type: 'stop' });
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(timer);
}

async function cpuMicros(server: Server): Promise<number> {
  const { user, system } = await request<{ type: string; user: number; system: number }>(
    server.child,
    { type: 'cpu' },
    'cpu',
  );
  return user + system;
}

async function flush(server: Server): Promise<void> {
  const reply = await request<{ type: string; error?: string }>(server.child, { type: 'flush' }, 'flushed');
  if (reply.error) throw new Error(`flushing ${server.spec.id}: ${reply.error}`);
}

/** One request at a time, so nothing else runs: the spans a single request makes. */
async function probe(server: Server, sink: SinkControl): Promise<number> {
  const response = await fetch(server.url);
  const body = (await response.json()) as { id?: string; total?: number };
  if (response.status !== 200 || body.id !== '42' || body.total !== 20) {
    throw new Error(`${server.spec.id}: unexpected answer ${response.status} ${JSON.stringify(body)}`);
  }
  await flush(server);
  const before = await sink.stats();
  const n = 20;
  for (let i = 0; i < n; i++) await (await fetch(server.url)).arrayBuffer();
  await flush(server);
  const after = await sink.stats();
  return (after.spans - before.spans) / n;
}

async function load(url: string, connections: number, seconds: number): Promise<LoadResult> {
  return autocannon({ url, connections, duration: seconds, timeout: 10 });
}

async function profiling(server: Server, message: { type: string; file?: string }): Promise<void> {
  const reply = await request<{ type: string; error?: string }>(server.child, message, 'profiled');
  if (reply.error) throw new Error(`profiling ${server.spec.id}: ${reply.error}`);
}

async function measure(
  server: Server,
  options: MacroOptions,
  warmupSec: number,
  profileAs?: string,
): Promise<RunResult> {
  await load(server.url, options.connections, warmupSec);
  await flush(server);
  if (profileAs) await profiling(server, { type: 'profile-start' });
  const sinkBefore = await options.sink.stats();
  const cpuBefore = await cpuMicros(server);
  const result = await load(server.url, options.connections, options.durationSec);
  await flush(server);
  const cpuAfter = await cpuMicros(server);
  const sinkAfter = await options.sink.stats();
  const requests = result.requests.total;
  if (profileAs) {
    await profiling(server, { type: 'profile-stop', file: `${profileAs}.cpuprofile` });
    writeFileSync(`${profileAs}.json`, JSON.stringify({ requests, cpu_us: cpuAfter - cpuBefore }));
  }
  return {
    requests,
    rps: requests / result.duration,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    cpu_us_per_req: (cpuAfter - cpuBefore) / requests,
    spans_per_req: (sinkAfter.spans - sinkBefore.spans) / requests,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

async function runPlatform(platform: Platform, options: MacroOptions): Promise<PlatformReport> {
  const all = [...TARGETS, ...(options.extraTargets ?? [])].filter((t) => options.targets.includes(t.id));
  const servers: Server[] = [];
  const specs = all;
  try {
    // boot in parallel (module loading dominates), then check each answers right
    const started = await Promise.allSettled(specs.map((spec) => startServer(spec, platform, options)));
    const failed: Record<string, string> = {};
    started.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') servers.push(outcome.value);
      else failed[specs[i]!.id] = String(outcome.reason);
    });
    const probes = new Map<string, number>();
    for (const server of [...servers]) {
      try {
        probes.set(server.spec.id, await probe(server, options.sink));
      } catch (error) {
        failed[server.spec.id] = String(error);
        servers.splice(servers.indexOf(server), 1);
        await stopServer(server);
      }
    }
    for (const [id, why] of Object.entries(failed)) options.log(`macro ${platform}: target ${id} left out: ${why}`);
    if (!servers.some((s) => s.spec.id === UNTRACED))
      throw new Error(`the untraced baseline did not start on ${platform}: ${failed[UNTRACED]}`);

    const ran = servers.map((s) => s.spec);
    const runs = new Map<string, RunResult[]>(ran.map((s) => [s.id, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const server of roundOrder(servers, round)) {
        const warmup = round === 0 ? options.firstWarmupSec : options.warmupSec;
        let profileAs: string | undefined;
        if (options.cpuProfDir) {
          mkdirSync(options.cpuProfDir, { recursive: true });
          profileAs = path.join(options.cpuProfDir, `${platform}-${server.spec.id}-r${round + 1}`);
        }
        const run = await measure(server, options, warmup, profileAs);
        runs.get(server.spec.id)!.push(run);
        options.log(
          `macro ${platform} round ${round + 1}/${options.rounds} ${server.spec.id.padEnd(15)} ` +
            `${Math.round(run.rps)} req/s, ${run.cpu_us_per_req.toFixed(1)} µs CPU/req, ${run.spans_per_req.toFixed(2)} spans/req` +
            (run.errors || run.non2xx ? `, ${run.errors} errors, ${run.non2xx} non-2xx` : ''),
        );
      }
    }

    const base = runs.get(UNTRACED);
    const extraOf = (id: string): Summary =>
      base
        ? pairedDiff(
            runs.get(id)!.map((x) => x.cpu_us_per_req),
            base.map((x) => x.cpu_us_per_req),
          )
        : summarize([]);
    const rawExtra = runs.has(RAW) ? extraOf(RAW).rounds : [];
    const targets: Record<string, TargetReport> = {};
    for (const spec of ran) {
      const r = runs.get(spec.id)!;
      const rps = r.map((x) => x.rps);
      const cpu = r.map((x) => x.cpu_us_per_req);
      const extra = extraOf(spec.id);
      const totalRequests = r.reduce((sum, x) => sum + x.requests, 0);
      targets[spec.id] = {
        label: spec.label,
        peer: spec.peer,
        note: spec.note,
        spans_per_request_probe: probes.get(spec.id)!,
        spans_per_request_under_load: r.reduce((sum, x) => sum + x.spans_per_req * x.requests, 0) / totalRequests,
        rps: summarize(rps),
        p50_ms: summarize(r.map((x) => x.p50_ms)),
        p99_ms: summarize(r.map((x) => x.p99_ms)),
        cpu_us_per_req: summarize(cpu),
        ratio: base
          ? pairedRatio(
              rps,
              base.map((x) => x.rps),
            )
          : summarize([]),
        cpu_ratio: base
          ? pairedRatio(
              base.map((x) => x.cpu_us_per_req),
              cpu,
            )
          : summarize([]),
        extra_cpu_us: extra,
        extra_vs_raw: pairedRatio(extra.rounds, rawExtra),
        runs: r,
      };
    }
    const peers: Record<string, number> = {};
    for (const spec of ran) if (spec.peer) peers[spec.id] = targets[spec.id]!.ratio.median;
    return {
      ratio: targets[OURS]?.ratio.median ?? NaN,
      extra_cpu_us: targets[OURS]?.extra_cpu_us.median ?? NaN,
      cpu_ratio: targets[OURS]?.cpu_ratio.median ?? NaN,
      extra_vs_raw: targets[OURS]?.extra_vs_raw.median ?? NaN,
      raw_otel_ratio: targets[RAW]?.ratio.median ?? null,
      peers,
      targets,
      failed,
    };
  } finally {
    await Promise.all(servers.map(stopServer));
  }
}

export async function runMacro(options: MacroOptions): Promise<MacroReport> {
  const report: MacroReport = {
    connections: options.connections,
    rounds: options.rounds,
    duration_s: options.durationSec,
    warmup_s: options.warmupSec,
  };
  for (const platform of options.platforms) report[platform] = await runPlatform(platform, options);
  return report;
}
