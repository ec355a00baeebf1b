import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Context,
  type TextMapPropagator,
} from '@opentelemetry/api';
import type { JobLike, JobOptions } from './bullmq-metadata.accessor.js';

/*
 * A job carries its producer's context where bullmq's own telemetry (and bullmq-otel) puts
 * it: `opts.telemetry.metadata`, a carrier object `{ traceparent, tracestate?, baggage? }`
 * stored with the job's options. The job's `data` is never touched; a worker that does not
 * trace ignores the option, and a bullmq-otel worker continues the trace.
 */

/** The job's options with the context of `ctx` added; the caller's own metadata or `omitContext` is kept. */
export function withJobContext(
  ctx: Context,
  opts: JobOptions | undefined,
  propagator: TextMapPropagator,
): JobOptions | undefined {
  const telemetry = opts?.telemetry;
  if (telemetry?.omitContext === true || telemetry?.metadata !== undefined) return opts;
  const metadata: Record<string, string> = {};
  try {
    propagator.inject(ctx, metadata, defaultTextMapSetter);
  } catch {
    return opts; // a broken propagator costs the job its context, never the add
  }
  if (Object.keys(metadata).length === 0) return opts;
  return { ...opts, telemetry: { ...telemetry, metadata } };
}

/** The producer's context a job carries (an object, or the JSON string bullmq's type allows); a fresh root otherwise. */
export function jobParent(job: JobLike | undefined, propagator: TextMapPropagator): Context {
  let metadata: unknown = job?.opts?.telemetry?.metadata;
  try {
    if (typeof metadata === 'string') metadata = JSON.parse(metadata);
    if (typeof metadata !== 'object' || metadata === null) return ROOT_CONTEXT;
    const headers: Record<string, string> = {};
    for (const key of Object.keys(metadata)) {
      const value = (metadata as Record<string, unknown>)[key];
      if (typeof value === 'string') headers[key] = value;
    }
    return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  } catch {
    return ROOT_CONTEXT;
  }
}
