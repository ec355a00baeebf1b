import {
  context as contextApi,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  SpanKind,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { isTracingSuppressed, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { nowNs, toNs } from './clock.js';
import type { IdPool } from './ids.js';
import { RecordContext, TraceIdentity } from './record-context.js';
import type { RecordLimits } from './limits.js';
import { SpanRecord, type RecordOwner } from './span-record.js';

/** What a tracer takes from its provider. */
export interface TracerHome {
  readonly resource: Resource;
  readonly limits: RecordLimits;
  readonly ids: IdPool;
  /** Whether a new trace (no valid parent) with this id is recorded. */
  sampledRoot(traceWords: number[]): boolean;
  started(record: SpanRecord, parent: Context): void;
  ending(record: SpanRecord): void;
  ended(record: SpanRecord): void;
}

/**
 * The API's Tracer over span records, deciding as the SDK's Tracer with a parent-based
 * sampler does: a child follows its parent's sampled flag, a root asks the ratio; an
 * unsampled span is the API's non-recording span carrying fresh ids, so the trace
 * context still propagates; suppressed tracing gets the invalid span. A child of one of
 * our spans shares its parent's trace identity, so the trace id is never parsed again.
 */
export class RecordTracer implements Tracer, RecordOwner {
  readonly resource: Resource;
  readonly limits: RecordLimits;

  constructor(
    readonly scope: InstrumentationScope,
    private readonly home: TracerHome,
  ) {
    this.resource = home.resource;
    this.limits = home.limits;
  }

  startSpan(name: string, options?: SpanOptions, parent: Context = contextApi.active()): Span {
    if (options?.root) parent = trace.deleteSpan(parent);
    if (isTracingSuppressed(parent)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parentSpan = trace.getSpan(parent);
    const parentContext = parentSpan?.spanContext();
    let identity: TraceIdentity;
    let sampled: boolean;
    let validParent: SpanContext | undefined;
    if (parentContext instanceof RecordContext) {
      validParent = parentContext;
      identity = parentContext.trace;
      sampled = (parentContext.traceFlags & TraceFlags.SAMPLED) !== 0;
    } else if (parentContext !== undefined && isSpanContextValid(parentContext)) {
      validParent = parentContext;
      identity = TraceIdentity.fromHex(parentContext.traceId);
      sampled = (parentContext.traceFlags & TraceFlags.SAMPLED) !== 0;
    } else {
      const words = this.home.ids.traceWords();
      identity = TraceIdentity.fromWords(words);
      sampled = this.home.sampledRoot(words);
    }
    const traceState = validParent?.traceState;
    const flags = sampled ? TraceFlags.SAMPLED : TraceFlags.NONE;
    const spanContext = new RecordContext(identity, this.home.ids.spanWords(), flags, traceState);
    if (!sampled) return trace.wrapSpanContext(spanContext);

    const startNs = options?.startTime === undefined ? nowNs() : toNs(options.startTime);
    const record = new SpanRecord(this, spanContext, validParent, name, options?.kind ?? SpanKind.INTERNAL, startNs);
    if (options !== undefined) {
      if (options.links) record.addLinks(options.links);
      if (options.attributes) record.setAttributes(options.attributes);
    }
    this.home.started(record, parent);
    return record;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    context: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a?: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> | undefined {
    let options: SpanOptions | undefined;
    let parent: Context | undefined;
    let fn: F;
    if (typeof a === 'function') fn = a;
    else if (typeof b === 'function') {
      options = a;
      fn = b;
    } else if (typeof c === 'function') {
      options = a;
      parent = b;
      fn = c;
    } else return undefined;
    parent ??= contextApi.active();
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }

  ending(record: SpanRecord): void {
    this.home.ending(record);
  }

  ended(record: SpanRecord): void {
    this.home.ended(record);
  }
}
