import type { Context } from '@opentelemetry/api';

/** One measured case: `run(n)` makes n calls in `ctx`. */
export interface Case {
  id: string;
  label: string;
  /** Cases of a group take turns within a round and are compared with each other. */
  group: string;
  ctx: Context;
  /** Spans a call exports (sampled cases), to check nothing was dropped. */
  spans: number;
  maxBatch: number;
  run: (n: number) => void | Promise<void>;
}

/** What a group needs around its turn (e.g. an app started for it), undone by the function returned. */
export type GroupSetup = () => Promise<() => Promise<void>>;
