/** Any method a wrapper stands in for: called with the caller's `this` and arguments, never typed further. */
export type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;
