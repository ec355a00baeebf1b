import type { Type } from '@nestjs/common';

/*
 * The reflect-metadata @nestjs/graphql writes (graphql.constants.js), read here only: the
 * package is an optional peer, its keys are named, not imported.
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
