import { ROOT_CONTEXT, SpanKind, trace, type Context, type Link, type Span } from '@opentelemetry/api';
import { runInSpan } from '../../engine/run-in-span.js';
import { withRuntime } from '../../runtime/active-runtime.js';
import type { SpanWrapper } from '../auto-trace/auto-span-site.js';
import type { JobLike } from './bullmq-metadata.accessor.js';
import { jobParent } from './job-context.js';
import { JOB_ATTEMPT, JOB_NAME, MESSAGE_ID, queueAttributes } from './queue-semconv.js';

/**
 * The CONSUMER span of one attempt at a job, `process <queue>`, around `WorkerHost.process`.
 * The first attempt continues the producer's trace; a retry (attemptsMade > 0), which may
 * come long after, starts a trace of its own linked to the producer's span. A worker calls
 * with no app in the context: the app that owns the processor instance traces it. A
 * failure is recorded and passed on to bullmq, which retries or fails the job as before.
 */
export const processJob: SpanWrapper = (site) => {
  const { spec, original } = site;
  return function process(this: unknown, first: unknown): unknown {
    const job = first as JobLike | undefined;
    const runtime = site.runtimeOwning(this);
    // eslint-disable-next-line prefer-rest-params -- passing `arguments` on costs no array per call
    if (runtime === undefined) return Reflect.apply(original, this, arguments);
    let span: Span;
    let spanContext: Context;
    try {
      const producer = jobParent(job, runtime.propagator);
      const attempt = (typeof job?.attemptsMade === 'number' ? job.attemptsMade : 0) + 1;
      const linked = trace.getSpanContext(producer);
      const parent = attempt === 1 ? producer : ROOT_CONTEXT;
      const links: Link[] = attempt > 1 && linked ? [{ context: linked }] : [];
      const queue = job?.queueName ?? 'unknown';
      span = runtime.tracer.startSpan(
        `process ${queue}`,
        {
          kind: SpanKind.CONSUMER,
          links,
          attributes: {
            ...spec.attributes,
            ...queueAttributes(queue, 'process', 'process'),
            [MESSAGE_ID]: job?.id,
            [JOB_NAME]: job?.name,
            [JOB_ATTEMPT]: attempt,
          },
        },
        parent,
      );
      spanContext = withRuntime(trace.setSpan(parent, span), runtime);
    } catch (error) {
      runtime.report('starting a queue consumer span', error);
      // eslint-disable-next-line prefer-rest-params -- as above
      return Reflect.apply(original, this, arguments);
    }
    // eslint-disable-next-line prefer-rest-params -- as above
    return runInSpan(span, spanContext, original, this, arguments);
  };
};
