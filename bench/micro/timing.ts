/** Timing: CPU per call of a case, and rounds in which the cases of a group take turns. */
import { context } from '@opentelemetry/api';
import type { Case, GroupSetup } from './case.js';
import { roundOrder } from '../stats.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * Runs `c` in batches until it has used about `ms` of CPU; returns CPU ns per call over
 * everything, event-loop turns included (that is when the batcher exports).
 * CPU time, not wall time: on a shared machine the wall clock also counts the time
 * other processes had the core. Bounded in wall time too (8 × ms).
 */
export async function timeCase(
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
    // the batcher exports on the next turns; that time counts too
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
export async function runRound(
  all: Case[],
  round: number,
  batches: Map<string, number>,
  caseMs: number,
  setups: Partial<Record<string, GroupSetup>>,
): Promise<Map<string, { cpuNs: number; calls: number }>> {
  const totals = new Map<string, { cpuNs: number; calls: number }>();
  const groups = roundOrder([...new Set(all.map((c) => c.group))], round);
  for (const group of groups) {
    const members = roundOrder(
      all.filter((c) => c.group === group),
      round,
    );
    const undo = await setups[group]?.();
    for (let slice = 0; slice < SLICES; slice++) {
      for (const c of slice % 2 === 0 ? members : [...members].reverse()) {
        const { nsPerCall, calls } = await timeCase(c, batches.get(c.id)!, caseMs / SLICES);
        const t = totals.get(c.id) ?? { cpuNs: 0, calls: 0 };
        t.cpuNs += nsPerCall * calls;
        t.calls += calls;
        totals.set(c.id, t);
      }
    }
    await undo?.();
  }
  return totals;
}
