import type { AnyMethod } from '../engine/method.js';
import { copyMethodMetadata } from './copy-method-metadata.js';
import { getSpanAttrParams } from './span-attr.decorator.js';
import { createSpanSpec, type TraceOptions } from '../engine/span-spec.js';
import { tracedCall } from '../engine/traced-call.js';

const TRACED = Symbol('nestjs-tracing:traced');

/** True for a method `@Trace()` wrapped: an explicit span wins over an automatic one. */
export function isTraced(method: unknown): boolean {
  return typeof method === 'function' && (method as { [TRACED]?: true })[TRACED] === true;
}

/**
 * Wraps calls in a span. On a method: one span per call, named `ClassName.method` unless
 * `name` is given. On a class: every own prototype method (not the constructor, getters
 * or setters). A method already traced, by a method-level @Trace or twice, is left as is.
 */
export function Trace(name?: string, options?: TraceOptions): MethodDecorator & ClassDecorator;
export function Trace(options: TraceOptions): MethodDecorator & ClassDecorator;
export function Trace(
  nameOrOptions?: string | TraceOptions,
  maybeOptions: TraceOptions = {},
): MethodDecorator & ClassDecorator {
  const name = typeof nameOrOptions === 'string' ? nameOrOptions : undefined;
  const options = typeof nameOrOptions === 'object' && nameOrOptions !== null ? nameOrOptions : maybeOptions;
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) return traceMethod(target, key as string | symbol, descriptor, name, options);
    traceClass(target as abstract new (...args: never[]) => unknown, name, options);
  }) as MethodDecorator & ClassDecorator;
}

function traceClass(
  constructor: abstract new (...args: never[]) => unknown,
  prefix: string | undefined,
  options: TraceOptions,
): void {
  const prototype = constructor.prototype as object;
  for (const key of Reflect.ownKeys(prototype)) {
    if (key === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
    if (!descriptor || typeof descriptor.value !== 'function') continue;
    const name = prefix === undefined ? undefined : `${prefix}.${String(key)}`;
    const before = descriptor.value as AnyMethod;
    traceMethod(prototype, key, descriptor, name, options);
    if (descriptor.value !== before) Object.defineProperty(prototype, key, descriptor);
  }
}

function traceMethod(
  target: object,
  key: string | symbol,
  descriptor: PropertyDescriptor,
  name: string | undefined,
  options: TraceOptions,
): PropertyDescriptor {
  const method = descriptor.value as AnyMethod & { [TRACED]?: true };
  if (typeof method !== 'function') throw new Error(`@Trace() can only decorate methods; ${String(key)} is not one`);
  if (method[TRACED]) return descriptor;
  const className = typeof target === 'function' ? target.name : target.constructor.name;
  const spec = createSpanSpec(className, String(key), name, options, getSpanAttrParams(target, key));
  const traced = function (this: unknown) {
    // eslint-disable-next-line prefer-rest-params -- passing `arguments` on costs no array per call
    return tracedCall(spec, method, this, arguments);
  } as AnyMethod & { [TRACED]?: true };
  copyMethodMetadata(method, traced);
  Object.defineProperty(traced, TRACED, { value: true });
  descriptor.value = traced;
  return descriptor;
}
