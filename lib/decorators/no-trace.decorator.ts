const NO_TRACE = Symbol('nestjs-tracing:no-trace');

/**
 * No automatic span for this class (all its methods) or this method. An explicit
 * `@Trace()` still makes its span.
 */
export function NoTrace(): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const marked = descriptor ? (descriptor.value as object) : target;
    Reflect.defineMetadata(NO_TRACE, true, marked);
  };
}

/** True when `@NoTrace()` is on the class (or a class it extends) or on the method itself. */
export function isNoTrace(target: object, method?: (...args: never[]) => unknown): boolean {
  return (
    Reflect.getMetadata(NO_TRACE, target) === true ||
    (method !== undefined && Reflect.getOwnMetadata(NO_TRACE, method) === true)
  );
}
