import type { Type } from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';
import type { HookContext } from './operation-span.js';

/*
 * What @nestjs/graphql leaves for tracing to read, in one place: the reflect-metadata it
 * writes (graphql.constants.js) and its request hooks. The package is an optional peer: its
 * keys are named, not imported.
 */
const RESOLVER_TYPE_METADATA = 'graphql:resolver_type';
const RESOLVER_NAME_METADATA = 'graphql:resolver_name';
const RESOLVER_PROPERTY_METADATA = 'graphql:resolve_property';

/** A `@Resolver()` class (the decorator defines the type key on the class, even without a type). */
export function isResolverClass(target: Type): boolean {
  return Reflect.getMetadataKeys(target).includes(RESOLVER_TYPE_METADATA);
}

/**
 * The GraphQL field a `@Query()`, `@Mutation()` or `@ResolveField()` method resolves; undefined
 * for any other method, subscriptions included (their span would end before any event).
 */
export function resolvedField(method: unknown, key: string): string | undefined {
  if (typeof method !== 'function') return undefined;
  const isField = Reflect.getMetadata(RESOLVER_PROPERTY_METADATA, method) === true;
  const type: unknown = Reflect.getMetadata(RESOLVER_TYPE_METADATA, method);
  if (!isField && type !== 'Query' && type !== 'Mutation') return undefined;
  const name: unknown = Reflect.getMetadata(RESOLVER_NAME_METADATA, method);
  return typeof name === 'string' ? name : key;
}

/**
 * The request hooks of @nestjs/graphql's ResolverDecoratorHost (13.4.4 and later, Apollo and
 * Mercurius drivers alike), which the operation span is started and ended from. The class is
 * recognised by name and shape, as the package is not loaded.
 */
export interface DecoratorHost {
  getOnRequestStartHook(): ((hook: HookContext) => unknown) | undefined;
  getOnRequestEndHook(): ((hook: HookContext & { state?: unknown }) => void) | undefined;
  setOnRequestStartHook(hook: ((hook: HookContext) => unknown) | undefined): void;
  setOnRequestEndHook(hook: ((hook: HookContext & { state?: unknown }) => void) | undefined): void;
}

const HOST_CLASS = 'ResolverDecoratorHost';

/** False when the app's GraphQLModule has a ResolverDecoratorHost without the hooks (before 13.4.4); known before instantiation. */
export function hasRequestHooks(modules: ModulesContainer): boolean {
  for (const moduleRef of modules.values()) {
    for (const wrapper of moduleRef.providers.values()) {
      const target = wrapper.metatype as { name?: unknown; prototype?: Partial<DecoratorHost> } | null;
      if (target?.name === HOST_CLASS && typeof target.prototype?.setOnRequestStartHook !== 'function') return false;
    }
  }
  return true;
}

/** The app's ResolverDecoratorHost instances that offer the hooks. */
export function decoratorHosts(modules: ModulesContainer): DecoratorHost[] {
  const hosts = new Set<DecoratorHost>();
  for (const moduleRef of modules.values()) {
    for (const wrapper of moduleRef.providers.values()) {
      const instance = wrapper.instance as Partial<DecoratorHost> | null;
      if (wrapper.metatype?.name === HOST_CLASS && typeof instance?.setOnRequestStartHook === 'function')
        hosts.add(instance as DecoratorHost);
    }
  }
  return [...hosts];
}
