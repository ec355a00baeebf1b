/** What `await` treats as a promise: anything with a callable `then`. */
export interface Thenable {
  then(onFulfilled?: (value: unknown) => unknown, onRejected?: (error: unknown) => unknown): unknown;
}

/** True for a promise or any thenable; false, not a throw, for a value whose `then` getter throws. */
export function isThenable(value: unknown): value is Thenable {
  try {
    return (
      value !== null &&
      (typeof value === 'object' || typeof value === 'function') &&
      typeof (value as Thenable).then === 'function'
    );
  } catch {
    return false;
  }
}
