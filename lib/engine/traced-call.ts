import { context, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';
import { isObservable, Observable } from 'rxjs';
import { setSafeAttribute } from '../attributes/set-safe-attribute.js';
import { runtimeIn, runtimeOf, withRuntime } from '../runtime/active-runtime.js';
import { subscribeInSpan } from './subscribe-in-span.js';
import type { TracingRuntime } from '../runtime/tracing-runtime.js';
import type { AnyMethod } from './method.js';
import { endWithFailure } from './span-outcome.js';
import type { SpanSpec } from './span-spec.js';

/**
 * Runs `method` inside a span described by `spec`. The span ends when the work ends:
 * on return, when a Promise settles, when a thenable the caller awaits settles, or when
 * an Observable completes, errors or is unsubscribed. Errors are recorded and rethrown
 * as the same object. A fault in tracing itself never reaches the caller.
 */
export function tracedCall(spec: SpanSpec, method: AnyMethod, self: unknown, args: IArguments): unknown {
  const parent = context.active();
  return tracedCallIn(parent, runtimeOf(parent), spec, method, self, args);
}

/** tracedCall for a caller that already read the active context and knows the app (automatic spans). */
export function tracedCallIn(
  parent: Context,
  runtime: TracingRuntime,
  spec: SpanSpec,
  method: AnyMethod,
  self: unknown,
  args: IArguments,
): unknown {
  if (runtime.ownsSampler && willNotRecord(parent, runtime)) return Reflect.apply(method, self, args);

  let span: Span;
  let spanContext: Context;
  try {
    if (runtime.ownsSampler) {
      span = runtime.tracer.startSpan(spec.name, spec.kindOnly, parent);
      if (span.isRecording()) {
        span.setAttributes(spec.attributes);
        if (spec.params.length > 0) recordParams(span, spec, args, runtime);
      }
    } else {
      span = runtime.tracer.startSpan(spec.name, spec.options, parent);
      if (spec.params.length > 0 && span.isRecording()) recordParams(span, spec, args, runtime);
    }
    spanContext = trace.setSpan(parent, span);
    // a root span (a job, a script) carries its app, so automatic spans beneath it know where they belong
    if (runtimeIn(parent) === undefined) spanContext = withRuntime(spanContext, runtime);
  } catch (error) {
    runtime.report('starting a span', error);
    return Reflect.apply(method, self, args);
  }

  let result: unknown;
  try {
    result = context.with(spanContext, apply, undefined, method, self, args);
  } catch (error) {
    endWithFailure(span, error);
    throw error;
  }
  if (result instanceof Promise) {
    return (result as Promise<unknown>).then(
      (value) => {
        span.end();
        return value;
      },
      (error) => {
        endWithFailure(span, error);
        throw error;
      },
    );
  }
  if (isObservable(result)) return traceObservable(result, span, spanContext);
  if (isThenable(result)) return endOnSettle(result, span);
  span.end();
  return result;
}

function apply(method: AnyMethod, self: unknown, args: IArguments): unknown {
  return Reflect.apply(method, self, args);
}

/**
 * Our parent-based sampler never records a child of an unsampled parent, nor a root at
 * ratio 0: skip the span instead of paying for one that records nothing. (A skipped root
 * sends no "not sampled" traceparent downstream; the next service decides for itself.)
 */
function willNotRecord(parent: Context, runtime: TracingRuntime): boolean {
  const span = trace.getSpan(parent);
  if (span === undefined) return runtime.options.sampleRatio === 0;
  return (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0;
}

function recordParams(span: Span, spec: SpanSpec, args: IArguments, runtime: TracingRuntime): void {
  for (const param of spec.params) {
    let value: unknown = args[param.index];
    if (value === undefined) continue;
    if (param.map) {
      try {
        value = param.map(value);
      } catch (error) {
        runtime.report(`@SpanAttr('${param.key}') map`, error);
        continue;
      }
    }
    setSafeAttribute(span, param.key, value, runtime.options);
  }
}

function traceObservable(source: Observable<unknown>, span: Span, spanContext: Context): Observable<unknown> {
  return new Observable((subscriber) =>
    subscribeInSpan(
      () => source,
      subscriber,
      spanContext,
      (failure) => (failure ? endWithFailure(span, failure.error) : span.end()),
    ),
  );
}

interface Thenable {
  then(onFulfilled?: (value: unknown) => unknown, onRejected?: (error: unknown) => unknown): unknown;
}

function isThenable(value: unknown): value is Thenable {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as Thenable).then === 'function'
  );
}

/**
 * Lazy thenables (query builders) run when `then` is called, so calling it ourselves
 * would run them twice. Instead the caller's own `then` is observed, and the object
 * keeps its identity, prototype and other methods.
 */
function endOnSettle(thenable: Thenable, span: Span): Thenable {
  let ended = false;
  return new Proxy(thenable, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property !== 'then' || typeof value !== 'function') return value;
      const then = value as Thenable['then'];
      return (onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown): unknown =>
        then.call(
          target,
          (result: unknown) => {
            if (!ended) span.end();
            ended = true;
            return onFulfilled ? onFulfilled(result) : result;
          },
          (error: unknown) => {
            if (!ended) endWithFailure(span, error);
            ended = true;
            if (onRejected) return onRejected(error);
            throw error;
          },
        );
    },
  });
}
