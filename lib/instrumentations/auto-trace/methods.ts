import type { AnyMethod } from '../../engine/method.js';

/*
 * Reading a class's methods without running any of its code: a prototype's getters
 * (Nest's own ModuleRef has some) would run if read with `prototype[key]`.
 */

/** The method `key` resolves to on `prototype` or a prototype it inherits from; undefined for a getter or data. */
export function findMethod(prototype: object, key: string): AnyMethod | undefined {
  for (let proto: object | null = prototype; proto && proto !== Object.prototype; proto = parentOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, key);
    if (descriptor) return typeof descriptor.value === 'function' ? (descriptor.value as AnyMethod) : undefined;
  }
  return undefined;
}

/** Every method name `prototype` has, its own and inherited (nearest definition first), getters and setters left out. */
export function methodNames(prototype: object): string[] {
  const seen = new Set<string>();
  const names: string[] = [];
  for (let proto: object | null = prototype; proto && proto !== Object.prototype; proto = parentOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (seen.has(key)) continue;
      seen.add(key); // the nearest definition decides, even a getter shadowing an inherited method
      if (typeof Object.getOwnPropertyDescriptor(proto, key)?.value === 'function' && key !== 'constructor') {
        names.push(key);
      }
    }
  }
  return names;
}

function parentOf(proto: object): object | null {
  return Object.getPrototypeOf(proto) as object | null;
}
