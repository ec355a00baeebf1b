import { context, type Context, type Span } from '@opentelemetry/api';
import { isObservable, Observable } from 'rxjs';
import { runtimeOf } from '../runtime/active-runtime.js';
import { subscribeInSpan } from './subscribe-in-span.js';
import type { TracingRuntime } from '../runtime/tracing-runtime.js';
import type { AnyMethod } from './method.js';
import { isThenable, type Thenable } from './thenable.js';
import { endWithFailure } from './span-outcome.js';
import type { SpanSpec } from './span-spec.js';
import { spanContextOf, startSpanIn } from './start-span.js';

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
  let started: Span | undefined;
  let spanContext: Context = parent;
  try {
    started = startSpanIn(parent, runtime, spec, args);
    if (started) spanContext = spanContextOf(parent, started, runtime);
  } catch (error) {
    runtime.report('starting a span', error);
    started = undefined;
  }
  if (started === undefined) return Reflect.apply(method, self, args);
  const span = started;

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
