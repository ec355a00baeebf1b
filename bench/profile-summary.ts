/**
 * Reads V8 .cpuprofile files (node --cpu-prof, or the bench's --cpu-prof runs) and says
 * where the CPU went: self time by function and by origin (a package, the library, Node
 * internals, GC), idle left out. When a profile has a sibling `.json` with `requests`
 * (the bench writes one), times are also given in µs per request, and two sets of
 * profiles can be subtracted to show what one target spends that the other does not.
 *
 *   node dist/bench/profile-summary.js A.cpuprofile [more…]              where A's CPU went
 *   node dist/bench/profile-summary.js --diff BASE.cpuprofile OTHER.cpuprofile
 *                                                                   OTHER − BASE, µs per request
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time (µs) by function and by origin, over one or more profiles, and how many requests they served. */
export interface ProfileTotals {
  busyUs: number;
  requests: number;
  byFunction: Map<string, number>;
  byOrigin: Map<string, number>;
}

export function loadProfiles(files: readonly string[]): ProfileTotals {
  const totals: ProfileTotals = { busyUs: 0, requests: 0, byFunction: new Map(), byOrigin: new Map() };
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const meta = file.replace(/\.cpuprofile$/, '.json');
    if (existsSync(meta)) totals.requests += (JSON.parse(readFileSync(meta, 'utf8')) as { requests: number }).requests;
    const selfUs = new Map<number, number>();
    if (profile.samples && profile.timeDeltas) {
      // a sample's time is the delta to the next one
      for (let i = 0; i < profile.samples.length; i++) {
        const id = profile.samples[i]!;
        selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i + 1] ?? 0));
      }
    } else {
      const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
      const per = (profile.endTime - profile.startTime) / hits;
      for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * per);
    }
    for (const node of profile.nodes) {
      const us = selfUs.get(node.id) ?? 0;
      const { functionName, url, lineNumber } = node.callFrame;
      if (us === 0 || functionName === '(idle)') continue;
      totals.busyUs += us;
      const fn = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
      add(totals.byFunction, fn, us);
      add(totals.byOrigin, originOf(url, functionName), us);
    }
  }
  return totals;
}

const add = (m: Map<string, number>, key: string, us: number): void => void m.set(key, (m.get(key) ?? 0) + us);

function originOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native: syscalls, V8 builtins)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.includes('/dist/lib/')) return 'nestjs-tracing (dist/lib)';
  if (url.includes('/dist/bench/')) return 'bench app (dist/bench)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : url;
}

function top(m: Map<string, number>, n: number, by: (us: number) => number = (us) => us): Array<[string, number]> {
  return [...m.entries()].sort((a, b) => by(b[1]) - by(a[1])).slice(0, n);
}

export function formatProfile(t: ProfileTotals, title: string, n = 20): string {
  const perReq = t.requests > 0;
  const cell = (us: number): string =>
    `${((us / t.busyUs) * 100).toFixed(1).padStart(5)}%${perReq ? `  ${(us / t.requests).toFixed(2).padStart(7)} µs/req` : ''}`;
  const lines = [
    `${title}: ${(t.busyUs / 1000).toFixed(0)} ms busy (idle excluded)${perReq ? `, ${t.requests} requests, ${(t.busyUs / t.requests).toFixed(1)} µs/req` : ''}`,
    '  by origin:',
  ];
  for (const [name, us] of top(t.byOrigin, n)) lines.push(`    ${cell(us)}  ${name}`);
  lines.push('  by function (self time):');
  for (const [name, us] of top(t.byFunction, n)) lines.push(`    ${cell(us)}  ${name}`);
  return lines.join('\n');
}

/** What `other` spends per request beyond `base`, by origin and by function, biggest first. */
export function formatDiff(base: ProfileTotals, other: ProfileTotals, title: string, n = 25): string {
  if (!base.requests || !other.requests)
    return `${title}: no request counts next to the profiles, cannot compare per request`;
  const diff = (a: Map<string, number>, b: Map<string, number>): Map<string, number> => {
    const out = new Map<string, number>();
    for (const key of new Set([...a.keys(), ...b.keys()]))
      out.set(key, (b.get(key) ?? 0) / other.requests - (a.get(key) ?? 0) / base.requests);
    return out;
  };
  const total = other.busyUs / other.requests - base.busyUs / base.requests;
  const lines = [
    `${title}: ${(other.busyUs / other.requests).toFixed(1)} − ${(base.busyUs / base.requests).toFixed(1)} = ${total.toFixed(1)} µs/req profiled`,
    '  by origin (µs/req, largest differences):',
  ];
  const fmt = (us: number): string => `${us >= 0 ? '+' : ''}${us.toFixed(2)}`.padStart(8);
  for (const [name, us] of top(diff(base.byOrigin, other.byOrigin), n, Math.abs)) lines.push(`    ${fmt(us)}  ${name}`);
  lines.push('  by function (µs/req, largest differences):');
  for (const [name, us] of top(diff(base.byFunction, other.byFunction), n, Math.abs))
    lines.push(`    ${fmt(us)}  ${name}`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  if (args[0] === '--diff' && args.length === 3) {
    console.log(formatDiff(loadProfiles([args[1]!]), loadProfiles([args[2]!]), `${args[2]} − ${args[1]}`));
  } else if (args.length > 0 && args[0] !== '--diff') {
    console.log(formatProfile(loadProfiles(args), args.join(', '), 30));
  } else {
    console.error(
      'usage: node dist/bench/profile-summary.js FILE.cpuprofile [more…] | --diff BASE.cpuprofile OTHER.cpuprofile',
    );
    process.exit(2);
  }
}
