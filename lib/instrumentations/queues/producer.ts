import { context, SpanKind, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { endWithFailure, endWithSuccess } from '../../engine/span-outcome.js';
import { withRuntime } from '../../runtime/active-runtime.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import type { BulkJob, JobLike, JobOptions, QueueLike } from './bullmq-metadata.accessor.js';
import { withJobContext } from './job-context.js';
import { BATCH_COUNT, JOB_NAME, MESSAGE_ID, queueAttributes } from './queue-semconv.js';

/**
 * PRODUCER spans for one bullmq Queue instance of the app: `send <queue>` for each `add`
 * (one job) and `addBulk` (one span for the batch), a child of the active span, ending
 * when the job is stored; the span's context goes with each job in its options (see
 * job-context.ts). Patched on the instance; the undo puts its methods back.
 */
export function traceQueue(queue: QueueLike, runtime: TracingRuntime): () => void {
  const own = {
    add: Object.getOwnPropertyDescriptor(queue, 'add'),
    addBulk: Object.getOwnPropertyDescriptor(queue, 'addBulk'),
  };
  const { add, addBulk } = queue;
  queue.add = function tracedAdd(this: unknown, name: string, data: unknown, opts?: JobOptions): Promise<JobLike> {
    const started = start(runtime, nameOf(this, queue), 'add', { [JOB_NAME]: name });
    if (!started) return add.call(this, name, data, opts);
    const [span, ctx] = started;
    const job = context.with(ctx, () => add.call(this, name, data, withJobContext(ctx, opts, runtime.propagator)));
    return settle(job, span, (stored) => ({ [MESSAGE_ID]: stored?.id }));
  };
  queue.addBulk = function tracedAddBulk(this: unknown, jobs: BulkJob[]): Promise<JobLike[]> {
    const started = Array.isArray(jobs)
      ? start(runtime, nameOf(this, queue), 'addBulk', { [BATCH_COUNT]: jobs.length })
      : undefined;
    if (!started) return addBulk.call(this, jobs);
    const [span, ctx] = started;
    // new job entries with new options; each job's data is the caller's own object
    const carried = jobs.map((job) => ({ ...job, opts: withJobContext(ctx, job.opts, runtime.propagator) }));
    return settle(
      context.with(ctx, () => addBulk.call(this, carried)),
      span,
      () => ({}),
    );
  };
  return () => {
    for (const key of ['add', 'addBulk'] as const) {
      const descriptor = own[key];
      if (descriptor) Object.defineProperty(queue, key, descriptor);
      else delete (queue as Partial<QueueLike>)[key];
    }
  };
}

function start(
  runtime: TracingRuntime,
  queue: string,
  operation: string,
  attributes: Attributes,
): [Span, Context] | undefined {
  try {
    const parent = context.active();
    const span = runtime.tracer.startSpan(
      `send ${queue}`,
      { kind: SpanKind.PRODUCER, attributes: { ...queueAttributes(queue, 'send', operation), ...attributes } },
      parent,
    );
    return [span, withRuntime(trace.setSpan(parent, span), runtime)];
  } catch (error) {
    runtime.report('starting a queue producer span', error);
    return undefined;
  }
}

function settle<T>(work: Promise<T>, span: Span, attributes: (value: T) => Attributes): Promise<T> {
  return work.then(
    (value) => {
      endWithSuccess(span, attributes(value));
      return value;
    },
    (error: unknown) => {
      endWithFailure(span, error);
      throw error;
    },
  );
}

function nameOf(self: unknown, queue: QueueLike): string {
  const name = (self as Partial<QueueLike> | null)?.name ?? queue.name;
  return typeof name === 'string' ? name : 'unknown';
}
