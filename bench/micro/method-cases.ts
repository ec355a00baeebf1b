/**
 * Methods one call at a time: plain, raw startActiveSpan, @Trace() (sync, async, Observable,
 * with @SpanAttr), as a root and inside a parent, sampled and not; and references.
 */
import { context, ROOT_CONTEXT, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import type { Case } from './case.js';
import { Plain, sameAs, Traced } from './methods.js';

export interface Tracers {
  /** The sampled app's provider. */
  sampled: Tracer;
  /** A plain SDK provider sampling nothing (parent-based, ratio 0), as the unsampled app's. */
  unsampled: Tracer;
  /** A plain SDK provider with a batch processor only. */
  plain: Tracer;
}

let blackhole = 0;
/** Read once at the end, so that no result is dead code. */
export const observed = (): number => blackhole;

export function methodCases(t: Tracers): Case[] {
  const plain = new Plain();
  const traced = new Traced();
  const sampledParent = t.sampled.startSpan('parent');
  const sampledChildCtx = trace.setSpan(ROOT_CONTEXT, sampledParent);
  // what an incoming unsampled request makes the parent: a span context without the sampled flag
  const unsampledParent = trace.wrapSpanContext({
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.NONE,
  });
  const unsampledChildCtx = trace.setSpan(ROOT_CONTEXT, unsampledParent);
  const syncSpan = sameAs('sync');
  const asyncSpan = sameAs('async');
  const attrsSpan = sameAs('attrs');
  const observer = { next: (v: number) => void (blackhole += v) };
  const SPANS = 2000;
  const LOTS = 50_000;
  const c = (
    id: string,
    label: string,
    group: string,
    spans: number,
    maxBatch: number,
    run: Case['run'],
    ctx = ROOT_CONTEXT,
  ): Case => ({ id, label, group, ctx, spans, maxBatch, run });

  const rawSync = (tracer: Tracer) => (n: number) => {
    for (let i = 0; i < n; i++) {
      blackhole += tracer.startActiveSpan(syncSpan.name, syncSpan.options, (span) => {
        const result = plain.sync(i);
        span.end();
        return result;
      });
    }
  };
  const traceSync = (n: number) => {
    for (let i = 0; i < n; i++) blackhole += traced.sync(i);
  };
  const plainSync = (n: number) => {
    for (let i = 0; i < n; i++) blackhole += plain.sync(i);
  };

  return [
    c('ref_plain_provider', 'ref: raw startActiveSpan, plain SDK provider', 'reference', 0, SPANS, rawSync(t.plain)),
    c('plain', 'plain method call', 'sync', 0, LOTS, plainSync),
    c('raw', 'raw startActiveSpan … end', 'sync', 1, SPANS, rawSync(t.sampled)),
    c('trace', '@Trace() sync', 'sync', 1, SPANS, traceSync),
    c('raw_child', 'raw startActiveSpan, in a parent span', 'child', 1, SPANS, rawSync(t.sampled), sampledChildCtx),
    c('trace_child', '@Trace() sync, in a parent span', 'child', 1, SPANS, traceSync, sampledChildCtx),
    c('plain_async', 'plain async method, awaited', 'async', 0, LOTS, async (n) => {
      for (let i = 0; i < n; i++) blackhole += await plain.async(i);
    }),
    c('raw_async', 'raw startActiveSpan(async …), awaited', 'async', 1, SPANS, async (n) => {
      for (let i = 0; i < n; i++) {
        blackhole += await t.sampled.startActiveSpan(asyncSpan.name, asyncSpan.options, async (span) => {
          const result = await plain.async(i);
          span.end();
          return result;
        });
      }
    }),
    c('trace_async', '@Trace() async, awaited', 'async', 1, SPANS, async (n) => {
      for (let i = 0; i < n; i++) blackhole += await traced.async(i);
    }),
    c('plain_observable', 'plain Observable, subscribed', 'observable', 0, LOTS, (n) => {
      for (let i = 0; i < n; i++) plain.obs(i).subscribe(observer);
    }),
    c('trace_observable', '@Trace() Observable, subscribed', 'observable', 1, SPANS, (n) => {
      for (let i = 0; i < n; i++) traced.obs(i).subscribe(observer);
    }),
    // run while the unsampled app (sampleRatio 0) is the most recently started one
    c('raw_unsampled', 'raw startActiveSpan, sampleRatio 0', 'unsampled', 0, SPANS, rawSync(t.unsampled)),
    c('trace_unsampled', '@Trace(), sampleRatio 0 (root)', 'unsampled', 0, SPANS, traceSync),
    c('trace_unsampled_child', '@Trace(), in an unsampled parent', 'unsampled', 0, SPANS, traceSync, unsampledChildCtx),
    c('plain_attrs', 'plain method, 2 args', 'attrs', 0, LOTS, (n) => {
      for (let i = 0; i < n; i++) blackhole += plain.attrs('order-42', i);
    }),
    c('raw_attrs', 'raw startActiveSpan + 2 setAttribute', 'attrs', 1, SPANS, (n) => {
      for (let i = 0; i < n; i++) {
        blackhole += t.sampled.startActiveSpan(attrsSpan.name, attrsSpan.options, (span) => {
          span.setAttribute('order.id', 'order-42');
          span.setAttribute('order.qty', i);
          const result = plain.attrs('order-42', i);
          span.end();
          return result;
        });
      }
    }),
    c('trace_attrs', '@Trace() + 2 @SpanAttr', 'attrs', 1, SPANS, (n) => {
      for (let i = 0; i < n; i++) blackhole += traced.attrs('order-42', i);
    }),
    c('ref_context_with', 'ref: context.with alone', 'reference', 0, LOTS, (n) => {
      for (let i = 0; i < n; i++) blackhole += context.with(sampledChildCtx, plain.sync, plain, i);
    }),
    c('ref_start_span', 'ref: raw startSpan + end (not made active)', 'reference', 1, SPANS, (n) => {
      for (let i = 0; i < n; i++) {
        const span = t.sampled.startSpan(syncSpan.name, syncSpan.options);
        blackhole += plain.sync(i);
        span.end();
      }
    }),
  ];
}
