/**
 * npm run bench [-- options]
 *
 *   --quick              ~1-minute smoke run (fewer, shorter rounds)
 *   --only micro|macro   one part only
 *   --json FILE          also write every figure as JSON
 *   --platform LIST      express,fastify (default both)
 *   --targets LIST       macro targets (default all: untraced,nestjs-tracing,otel-auto,nestjs-otel)
 *   --rounds N           rounds (both parts)
 *   --duration S         measured seconds per macro run
 *   --warmup S           warm-up seconds before each macro run
 *   --connections N      autocannon connections (default 50)
 *   --node PATH          run the macro targets and the sink on this Node binary (default: the bench's own);
 *                        micro runs in the bench process: start the bench with a binary to measure micro on it
 *   --cases LIST         micro: only these groups (request,sync,child,async,observable,unsampled,attrs,reference,all_in,auto)
 *   --no-floor           micro: skip the raw-SDK floor measurement
 *   --extra-target ID=FILE  also serve FILE (a built target script, e.g. one importing a patched
 *                        copy of dist/lib) in the same alternating rounds; repeatable
 *   --cpu-prof [DIR]     CPU-profile every measured macro run (default .bench/profiles) and print
 *                        where each target's CPU went, per request, and what it spends beyond
 *                        untraced; figures from such a run are not comparable to others
 *
 * All traffic stays on 127.0.0.1; every run is bounded by its duration.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMacro, type MacroReport, type PlatformReport } from './macro.js';
import { runMicro, type MicroReport } from './micro.js';
import { printAutoMicro, runAutoMicro } from './auto-trace.js';
import type { SinkStats } from './otlp-sink.js';
import { formatDiff, formatProfile, loadProfiles } from './profile-summary.js';
import type { Summary } from './stats.js';
import { OURS, RAW, TARGETS, UNTRACED, type TargetSpec } from './targets/index.js';
import type { Platform } from './targets/serve.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Args {
  quick: boolean;
  only?: 'micro' | 'macro';
  json?: string;
  platforms: Platform[];
  targets: string[];
  rounds?: number;
  duration?: number;
  warmup?: number;
  connections: number;
  node: string;
  cpuProf?: string;
  extraTargets: TargetSpec[];
  groups?: string[];
  noFloor: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    platforms: ['express', 'fastify'],
    targets: TARGETS.map((t) => t.id),
    connections: 50,
    node: process.execPath,
    extraTargets: [],
    noFloor: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      return v;
    };
    const number = (): number => {
      const v = Number(value());
      if (!(v > 0)) throw new Error(`${flag} needs a positive number`);
      return v;
    };
    switch (flag) {
      case '--quick':
        args.quick = true;
        break;
      case '--only': {
        const v = value();
        if (v !== 'micro' && v !== 'macro') throw new Error('--only takes micro or macro');
        args.only = v;
        break;
      }
      case '--json':
        args.json = value();
        break;
      case '--platform':
      case '--platforms': {
        const list = value().split(',');
        for (const p of list) if (p !== 'express' && p !== 'fastify') throw new Error(`unknown platform ${p}`);
        args.platforms = list as Platform[];
        break;
      }
      case '--targets': {
        const list = value().split(',');
        for (const t of list)
          if (!TARGETS.some((s) => s.id === t))
            throw new Error(`unknown target ${t}; known: ${TARGETS.map((s) => s.id).join(', ')}`);
        args.targets = [...new Set([UNTRACED, ...list])];
        break;
      }
      case '--rounds':
        args.rounds = Math.round(number());
        break;
      case '--duration':
        args.duration = number();
        break;
      case '--warmup':
        args.warmup = number();
        break;
      case '--connections':
        args.connections = Math.round(number());
        break;
      case '--node':
        args.node = value();
        break;
      case '--cases':
        args.groups = value().split(',');
        break;
      case '--no-floor':
        args.noFloor = true;
        break;
      case '--extra-target': {
        const v = value();
        const eq = v.indexOf('=');
        if (eq <= 0) throw new Error('--extra-target takes ID=FILE');
        const id = v.slice(0, eq);
        args.extraTargets.push({
          id,
          label: id,
          file: path.resolve(v.slice(eq + 1)),
          peer: false,
          note: `extra target ${path.resolve(v.slice(eq + 1))}`,
        });
        args.targets.push(id);
        break;
      }
      case '--cpu-prof': {
        const next = argv[i + 1];
        args.cpuProf = next !== undefined && !next.startsWith('--') ? (i++, next) : path.resolve('.bench/profiles');
        break;
      }
      case '--help':
      case '-h':
        console.log(readUsage());
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag} (see --help)`);
    }
  }
  return args;
}

function readUsage(): string {
  return 'npm run bench -- [--quick] [--only micro|macro] [--json FILE] [--platform express,fastify] [--targets LIST] [--rounds N] [--duration S] [--warmup S] [--connections N] [--node PATH] [--cpu-prof [DIR]]';
}

// ---- the sink, in its own process so its CPU is nobody's ---------------------------

interface SinkProcess {
  url: string;
  stats(): Promise<SinkStats>;
  stop(): Promise<void>;
}

async function startSinkProcess(node: string): Promise<SinkProcess> {
  const child: ChildProcess = fork(path.join(here, 'otlp-sink.js'), [], {
    execPath: node,
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(child, 'message')) as [{ type: string; url: string }];
  return {
    url: ready.url,
    stats: () =>
      new Promise((resolve) => {
        const on = (m: { type: string; stats: SinkStats }): void => {
          if (m.type !== 'stats') return;
          child.off('message', on);
          resolve(m.stats);
        };
        child.on('message', on);
        child.send({ type: 'stats' });
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---- tables -----------------------------------------------------------------------

function table(headers: string[], rows: string[][], alignLeft = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < alignLeft ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const f = (v: number, digits = 0): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const pct = (v: number): string => (Number.isFinite(v) ? `±${(v * 50).toFixed(0)}%` : '–');
const range = (s: Summary, digits = 2): string =>
  Number.isFinite(s.min) ? `${f(s.min, digits)}–${f(s.max, digits)}` : '–';

function printMicro(micro: MicroReport): void {
  console.log(`\n## micro: CPU ns per call (${micro.rounds} alternating rounds; median, min–max of rounds)\n`);
  const rows = Object.values(micro.cases).map((c) => [c.label, f(c.median, 1), range(c, 1), pct(c.spread)]);
  console.log(table(['case', 'ns/call', 'min–max', 'spread'], rows));
  const present = (pairs: Array<[string, Summary | undefined, number]>): string[][] =>
    pairs
      .filter(([, s]) => s && Number.isFinite(s.median))
      .map(([label, s, digits]) => [label, f(s!.median, digits), range(s!, digits)]);
  const r = micro.trace_vs_raw;
  const ratios = present([
    ['sync, root span', r.sync, 3],
    ['sync, in a parent span', r.child, 3],
    ['async, awaited', r.async, 3],
    ['with 2 arguments as attributes', r.attrs, 3],
    ['sampleRatio 0, root', r.unsampled, 3],
  ]);
  if (ratios.length) {
    console.log('\n@Trace() ÷ raw startActiveSpan (same provider, processor, span name and attributes):');
    console.log(table(['pair', 'ratio', 'min–max'], ratios));
  }
  const o = micro.overhead_ns;
  const overheads = present([
    ['raw startActiveSpan', o.raw, 0],
    ['@Trace() sync', o.trace, 0],
    ['@Trace() async', o.trace_async, 0],
    ['@Trace() Observable', o.trace_observable, 0],
    ['@Trace() + 2 @SpanAttr', o.trace_attrs, 0],
    ['@Trace(), sampleRatio 0 (root)', o.trace_unsampled, 0],
    ['@Trace(), in an unsampled parent', o.trace_unsampled_child, 0],
  ]);
  if (overheads.length) {
    console.log('\nOverhead over the same call untraced (ns):');
    console.log(table(['what', 'ns', 'min–max'], overheads));
  }
  const q = micro.request;
  if (Number.isFinite(q.lib_vs_raw.median)) {
    console.log(
      `\nRequest path without HTTP (fake request → server span → 2 nested methods, discarding exporter): ` +
        `nestjs-tracing adds ${f(q.lib_overhead_ns.median / 1000, 2)} µs, the raw SDK by hand ${f(q.raw_overhead_ns.median / 1000, 2)} µs ` +
        `(whole path lib ÷ raw ${f(q.lib_vs_raw.median, 3)}, ${range(q.lib_vs_raw, 2)}).`,
    );
  }
  const fl = micro.floor;
  if (fl) {
    console.log(
      `\nFloor, raw SDK, per request of 3 spans (server + 2 nested, same attributes): ` +
        `${f(fl.create_and_export_us.median, 1)} µs CPU to create and export over OTLP/protobuf ` +
        `(${range(fl.create_and_export_us, 1)}); create only ${f(fl.create_only_us.median, 1)} µs, export ${f(fl.export_us.median, 1)} µs. ` +
        `Sink received ${fl.spans_received}/${fl.spans_expected} spans.`,
    );
  }
  console.log(`Sampled micro spans exported: ${micro.spans.exported}/${micro.spans.expected}.`);
  const lib = micro.span_all_in_ns;
  const raw = micro.span_all_in_raw_ns;
  const spans = micro.span_all_in_spans;
  if (lib && raw && spans) {
    console.log(
      `\nOne sampled span all-in (created and exported over OTLP/protobuf to the sink, CPU ns over a plain call): ` +
        `@Trace() ${f(lib.median)} ns (${range(lib, 0)}), raw SDK ${f(raw.median)} ns (${range(raw, 0)}); ` +
        `@Trace() ÷ raw ${f(micro.span_all_in_vs_raw!.median, 3)}.`,
    );
    console.log(
      `All-in spans received by the sink: @Trace() ${spans.lib_received}/${spans.expected}, raw SDK ${spans.raw_received}/${spans.expected}.`,
    );
  }
}

function printPlatform(name: string, p: PlatformReport): void {
  const rows = Object.entries(p.targets).map(([id, t]) => [
    t.label,
    f(t.rps.median),
    pct(t.rps.spread),
    f(t.p50_ms.median, 1),
    f(t.p99_ms.median, 1),
    f(t.cpu_us_per_req.median, 1),
    id === UNTRACED ? '' : f(t.extra_cpu_us.median, 1),
    id === UNTRACED ? '' : f(t.extra_vs_raw.median, 3),
    id === UNTRACED ? '1' : f(t.ratio.median, 3),
    id === UNTRACED ? '' : range(t.ratio, 2),
    id === UNTRACED ? '1' : f(t.cpu_ratio.median, 3),
    `${f(t.spans_per_request_under_load, 2)}/${f(t.spans_per_request_probe, 0)}`,
  ]);
  console.log(`\n### ${name}\n`);
  console.log(
    table(
      [
        'target',
        'req/s',
        'spread',
        'p50 ms',
        'p99 ms',
        'CPU µs/req',
        'extra µs',
        'extra ÷ raw',
        'ratio',
        'ratio min–max',
        'CPU ratio',
        'spans/req',
      ],
      rows,
    ),
  );
  for (const [id, why] of Object.entries(p.failed)) console.log(`left out: ${id}: ${why}`);
}

function printMacro(macro: MacroReport): void {
  console.log(
    `\n## macro: GET /orders/:id, ${macro.connections} connections, ${macro.rounds} alternating rounds × ${macro.duration_s} s per target ` +
      `(medians)\n` +
      `ratio = req/s ÷ untraced req/s in the same round; CPU ratio = untraced CPU/req ÷ target CPU/req; ` +
      `extra µs = CPU/req − untraced CPU/req; extra ÷ raw = extra µs ÷ raw-otel's extra µs in the same round; spans/req = received by the sink per request under load / made by one request alone`,
  );
  for (const platform of ['express', 'fastify'] as const) {
    const p = macro[platform];
    if (p) printPlatform(platform === 'express' ? 'Express' : 'Fastify', p);
  }
  const notes = TARGETS.filter((t) => t.note && (macro.express?.targets[t.id] || macro.fastify?.targets[t.id]));
  if (notes.length) console.log('');
  for (const t of notes) console.log(`note: ${t.label}: ${t.note}`);
}

// ---- the targets of issue 14 ---------------------------------------------------------

interface TargetCheck {
  what: string;
  value: number;
  limit: string;
  met: boolean | null;
}

function checkTargets(micro?: MicroReport, macro?: MacroReport): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const atMost = (what: string, value: number, max: number, limit = `≤ ${max}`): TargetCheck => ({
    what,
    value,
    limit,
    met: value <= max,
  });
  for (const [platform, min] of [
    ['express', 0.8],
    ['fastify', 0.65],
  ] as const) {
    const p = macro?.[platform];
    if (!p || !p.targets[OURS]) continue;
    const raw = p.targets[RAW];
    checks.push({
      what: `${platform}: CPU ratio (untraced CPU/req ÷ traced CPU/req)`,
      value: p.cpu_ratio,
      limit: `≥ ${min}`,
      met: p.cpu_ratio >= min,
    });
    if (raw) {
      checks.push({ what: '  (reference: raw SDK by hand)', value: raw.cpu_ratio.median, limit: '', met: null });
      checks.push(
        atMost(
          `${platform}: extra CPU ÷ raw SDK's extra CPU (${f(p.extra_cpu_us, 1)} / ${f(raw.extra_cpu_us.median, 1)} µs)`,
          p.extra_vs_raw,
          1 / 3,
          '≤ 1/3',
        ),
      );
    }
    const best = Math.max(...Object.values(p.peers));
    if (Object.keys(p.peers).length) {
      checks.push({
        what: `${platform}: ahead of every peer (best peer ratio)`,
        value: best,
        limit: `< ${f(p.ratio, 3)}`,
        met: p.ratio > best,
      });
    }
  }
  if (micro) {
    checks.push(
      atMost(
        'micro: one sampled @Trace() span all-in (create + OTLP export), ns',
        micro.span_all_in_ns?.median ?? NaN,
        1500,
      ),
    );
    checks.push(atMost('micro: @Trace() sampling off, ns over a plain call (root)', micro.unsampled_overhead_ns, 150));
  }
  return checks;
}

function printChecks(all: TargetCheck[]): void {
  // a part or case that did not run has nothing to check
  const checks = all.filter((c) => Number.isFinite(c.value) || c.met === null);
  if (!checks.length) return;
  console.log('\n## targets\n');
  console.log(
    table(
      ['target', 'value', 'limit', 'met'],
      checks.map((c) => [
        c.what,
        f(c.value, c.value < 10 ? 3 : 0),
        c.limit,
        c.met === null ? (c.limit ? 'n/a' : '') : c.met ? 'yes' : 'NO',
      ]),
    ),
  );
}

/** The bench's own Node (micro, autocannon) and the one the macro targets and the sink run on. */
function nodeVersions(binary: string): { bench: string; targets: string; targets_binary: string } {
  const targets =
    binary === process.execPath
      ? process.version
      : execFileSync(binary, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  return { bench: process.version, targets, targets_binary: binary };
}

/** The commit measured, and whether lib/ had uncommitted changes (others edit it concurrently). */
function gitDescribe(): { commit: string; lib_dirty: boolean } | undefined {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'lib'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return { commit, lib_dirty: dirty };
  } catch {
    return undefined;
  }
}

// ---- main -------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (line: string): void => {
    const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
    process.stderr.write(`[${s}s] ${line}\n`);
  };
  const quick = args.quick;
  const rounds = args.rounds ?? (quick ? 2 : 4);
  const environment = {
    node: nodeVersions(args.node),
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    loadavg_at_start: os.loadavg().map((v) => Number(v.toFixed(2))),
    git: gitDescribe(),
    quick,
  };
  const git = environment.git
    ? `, commit ${environment.git.commit}${environment.git.lib_dirty ? ' + uncommitted lib/ changes' : ''}`
    : '';
  console.log(
    `nestjs-tracing bench — node ${environment.node.bench} (bench, micro), ${environment.node.targets} (macro targets, sink), ${environment.cpus} CPUs (${environment.cpu_model}), load ${environment.loadavg_at_start.join(' ')}${git}${quick ? ', --quick' : ''}`,
  );
  if (environment.loadavg_at_start[0]! > environment.cpus * 0.5) {
    console.log('warning: the machine is busy; absolute figures are indicative, ratios (paired per round) less so');
  }

  const sink = await startSinkProcess(args.node);
  let micro: MicroReport | undefined;
  let macro: MacroReport | undefined;
  try {
    if (args.only !== 'macro') {
      micro = await runMicro({
        rounds: args.rounds ?? (quick ? 3 : 7),
        caseMs: quick ? 60 : 200,
        floorRequests: quick ? 1020 : 3060,
        allInSpans: quick ? 2048 : 8192,
        sinkUrl: sink.url,
        sinkStats: () => sink.stats(),
        groups: args.groups,
        noFloor: args.noFloor,
        log,
      });
      printMicro(micro);
      if (!args.groups || args.groups.includes('auto')) {
        const auto = await runAutoMicro({ rounds: args.rounds ?? (quick ? 3 : 7), caseMs: quick ? 60 : 200, log });
        printAutoMicro(Object.assign(micro, auto));
      }
    }
    if (args.only !== 'micro') {
      const duration = args.duration ?? (quick ? 2 : 4);
      const warmup = args.warmup ?? (quick ? 1 : 2);
      macro = await runMacro({
        platforms: args.platforms,
        targets: args.targets,
        extraTargets: args.extraTargets,
        rounds,
        warmupSec: warmup,
        firstWarmupSec: Math.max(warmup, quick ? 1.5 : 3),
        durationSec: duration,
        connections: args.connections,
        node: args.node,
        sink,
        cpuProfDir: args.cpuProf,
        log,
      });
      printMacro(macro);
      if (args.cpuProf) printProfiles(args.cpuProf, macro);
    }
  } finally {
    await sink.stop();
  }

  const checks = checkTargets(micro, macro);
  printChecks(checks);
  if (args.cpuProf)
    console.log('\nwarning: servers ran under --cpu-prof; their figures are not comparable to an unprofiled run');
  const elapsed = (Date.now() - started) / 1000;
  console.log(`\ndone in ${elapsed.toFixed(0)} s`);
  if (args.json) {
    const json = {
      version: 1,
      date: new Date().toISOString(),
      environment,
      elapsed_s: elapsed,
      micro,
      macro,
      targets: checks,
    };
    writeFileSync(
      args.json,
      `${JSON.stringify(json, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
    );
    console.log(`JSON written to ${args.json}`);
  }
}

/** Per platform: where each target's CPU went, and what each traced target spends beyond untraced (and beyond the raw SDK). */
function printProfiles(dir: string, macro: MacroReport): void {
  const files = readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'));
  for (const platform of ['express', 'fastify'] as const) {
    const report = macro[platform];
    if (!report) continue;
    const of = (target: string): string[] =>
      files.filter((n) => n.startsWith(`${platform}-${target}-r`)).map((n) => path.join(dir, n));
    const base = loadProfiles(of(UNTRACED));
    console.log(`\n## profiles, ${platform} (all measured runs of each target; ${dir})`);
    for (const target of Object.keys(report.targets)) {
      const totals = loadProfiles(of(target));
      console.log(`\n${formatProfile(totals, `${platform} ${target}`, 15)}`);
      if (target !== UNTRACED) console.log(`\n${formatDiff(base, totals, `${platform} ${target} − untraced`, 20)}`);
      if (target === OURS && report.targets[RAW]) {
        console.log(
          `\n${formatDiff(loadProfiles(of(RAW)), totals, `${platform} ${target} − raw OTel SDK by hand`, 20)}`,
        );
      }
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
