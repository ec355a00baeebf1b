import { randomUUID } from 'node:crypto';

/** Unique per test file and run, so parallel runs on one broker never see each other's messages. */
export const RUN = randomUUID().slice(0, 8);

/** The message patterns one worker serves, all under one prefix. */
export interface Patterns {
  get: string;
  fail: string;
  stream: string;
  created: string;
  echo: string;
}

export const patternsFor = (prefix: string): Patterns => ({
  get: `${prefix}.orders.get`,
  fail: `${prefix}.orders.fail`,
  stream: `${prefix}.orders.stream`,
  created: `${prefix}.orders.created`,
  echo: `${prefix}.orders.echo`,
});
