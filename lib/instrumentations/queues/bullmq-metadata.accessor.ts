import type { Type } from '@nestjs/common';

/*
 * What @nestjs/bullmq and bullmq leave for tracing to read, in one place: the package is an
 * optional peer, its metadata key is named, its classes are recognised by shape and name.
 */
const PROCESSOR_METADATA = 'bullmq:processor_metadata';

/** A `@Processor()` class (a WorkerHost whose `process` BullExplorer hands to a Worker). */
export function isProcessor(target: Type): boolean {
  return Reflect.getMetadata(PROCESSOR_METADATA, target) !== undefined;
}

/** The part of a bullmq Job tracing reads. */
export interface JobLike {
  id?: string;
  name?: string;
  queueName?: string;
  attemptsMade?: number;
  opts?: { telemetry?: { metadata?: unknown } };
}

/** A bullmq Queue: its class or one it extends is named Queue, with `add`, `addBulk` and bullmq's own `addJob`. */
export function isBullQueue(value: unknown): value is QueueLike {
  if (typeof value !== 'object' || value === null) return false;
  const q = value as Partial<QueueLike> & { addJob?: unknown };
  if (typeof q.add !== 'function' || typeof q.addBulk !== 'function' || typeof q.addJob !== 'function') return false;
  for (let proto: unknown = Object.getPrototypeOf(value); proto && proto !== Object.prototype;) {
    if ((proto as { constructor?: { name?: unknown } }).constructor?.name === 'Queue') return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

export interface JobOptions {
  telemetry?: { metadata?: unknown; omitContext?: boolean };
  [option: string]: unknown;
}
export interface BulkJob {
  name: string;
  data: unknown;
  opts?: JobOptions;
}
export interface QueueLike {
  name: string;
  add: (this: unknown, name: string, data: unknown, opts?: JobOptions) => Promise<JobLike>;
  addBulk: (this: unknown, jobs: BulkJob[]) => Promise<JobLike[]>;
}
