import { context, type Context, type Span } from '@opentelemetry/api';
import { isObservable, Observable } from 'rxjs';
import type { AnyMethod } from './method.js';
import { endWithFailure } from './span-outcome.js';
import { subscribeInSpan } from './subscribe-in-span.js';

/**
 * Runs `method` in `spanContext` and ends `span`, already started by an entry point (a
 * scheduled run, a queue job, a WebSocket message), when the work ends: on return, when a
 * Promise settles, when an Observable (returned or resolved) completes, errors or is
 * unsubscribed. A throw or rejection is recorded and passed on as the same object; the
 * result keeps its shape. `failure`, if given, is consulted when the work succeeded: an
 * error the framework swallowed on the way (an exception filter) still marks the span.
 */
export function runInSpan(
  span: Span,
  spanContext: Context,
  method: AnyMethod,
  self: unknown,
  args: ArrayLike<unknown>,
  failure?: () => { error: unknown } | undefined,
): unknown {
  const end = (): void => {
    const failed = failure?.();
    if (failed) endWithFailure(span, failed.error);
    else span.end();
  };
  let result: unknown;
  try {
    result = context.with(spanContext, () => Reflect.apply(method, self, args) as unknown);
  } catch (error) {
    endWithFailure(span, error);
    throw error;
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => (isObservable(value) ? untilDone(value, span, spanContext, end) : (end(), value)),
      (error: unknown) => {
        endWithFailure(span, error);
        throw error;
      },
    );
  }
  if (isObservable(result)) return untilDone(result, span, spanContext, end);
  end();
  return result;
}

function untilDone(
  source: Observable<unknown>,
  span: Span,
  spanContext: Context,
  end: () => void,
): Observable<unknown> {
  return new Observable((subscriber) =>
    subscribeInSpan(
      () => source,
      subscriber,
      spanContext,
      (failed) => (failed ? endWithFailure(span, failed.error) : end()),
    ),
  );
}
