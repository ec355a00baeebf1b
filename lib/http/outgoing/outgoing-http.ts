import { subscribeFetch } from './fetch-tracing.js';

let holders = 0;
let unsubscribe: (() => void) | undefined;

/** One subscription per process however many apps run in it; the last one to close removes it. */
export function acquireOutgoingHttpTracing(): () => void {
  holders++;
  if (holders === 1) unsubscribe = subscribeFetch();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders--;
    if (holders === 0) {
      unsubscribe?.();
      unsubscribe = undefined;
    }
  };
}
