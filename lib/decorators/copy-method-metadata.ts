import type { AnyMethod } from '../engine/method.js';

/**
 * A wrapper must be indistinguishable from what it wraps to everything that reads
 * functions: Nest's router and explorers read reflect-metadata from the method itself
 * (routes, guards, @SetMetadata, @MessagePattern, @OnEvent, swagger), and some code
 * reads `name` or `length`.
 */
export function copyMethodMetadata(from: AnyMethod, to: AnyMethod): void {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
  Object.defineProperty(to, 'name', { value: from.name, configurable: true });
  Object.defineProperty(to, 'length', { value: from.length, configurable: true });
}
