import { context, type Context } from '@opentelemetry/api';
import type { Observable, Subscriber, TeardownLogic } from 'rxjs';

/** Ends an Observable's span: with no argument on completion or unsubscription, with the error on failure. */
export type EndSpan = (failure?: { error: unknown }) => void;

/**
 * Subscribes `subscriber` to the Observable `source()` makes, inside `spanContext` so that
 * work done in the subscription is parented to the span, and ends the span exactly once:
 * on error, on completion, or when the subscriber unsubscribes. With `deliverIn`, every
 * notification is handed over in that context: replies that arrive on socket callbacks
 * would otherwise run in the context of whichever request opened the connection.
 */
export function subscribeInSpan<T>(
  source: () => Observable<T>,
  subscriber: Subscriber<T>,
  spanContext: Context,
  endSpan: EndSpan,
  deliverIn?: Context,
): TeardownLogic {
  let ended = false;
  const end = (failure?: { error: unknown }): void => {
    if (ended) return;
    ended = true;
    endSpan(failure);
  };
  const deliver = <A>(notify: (value: A) => void, value: A): void => {
    if (deliverIn) context.with(deliverIn, notify, undefined, value);
    else notify(value);
  };
  const next = (value: T): void => subscriber.next(value);
  const error = (failure: unknown): void => subscriber.error(failure);
  const complete = (): void => subscriber.complete();
  const subscription = context.with(spanContext, () =>
    source().subscribe({
      next: (value) => deliver(next, value),
      error: (failure: unknown) => {
        end({ error: failure });
        deliver(error, failure);
      },
      complete: () => {
        end();
        deliver(complete, undefined);
      },
    }),
  );
  return () => {
    subscription.unsubscribe();
    end();
  };
}
