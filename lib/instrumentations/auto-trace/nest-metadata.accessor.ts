import type { Type } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants.js';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { findMethod } from './methods.js';

/*
 * Every read of Nest's reflect-metadata that automatic spans need, in one place (as
 * @nestjs/schedule keeps its reads in schedule-metadata.accessor.ts); discovery and the
 * instrumentations never name a metadata key themselves.
 */

/** @nestjs/microservices is optional: its key, as `@MessagePattern`/`@EventPattern` write it. */
const PATTERN_METADATA = 'microservices:pattern';

export type EnhancerRole = 'guard' | 'pipe' | 'interceptor' | 'filter';

/** The method Nest calls on an enhancer in each role. */
export const ENHANCER_METHOD: Record<EnhancerRole, string> = {
  guard: 'canActivate',
  pipe: 'transform',
  interceptor: 'intercept',
  filter: 'catch',
};

const ROLE_OF_KEY: Array<[string, EnhancerRole]> = [
  [GUARDS_METADATA, 'guard'],
  [PIPES_METADATA, 'pipe'],
  [INTERCEPTORS_METADATA, 'interceptor'],
  [EXCEPTION_FILTERS_METADATA, 'filter'],
];

const ROLE_OF_TOKEN: Array<[string, EnhancerRole]> = [
  [APP_GUARD, 'guard'],
  [APP_PIPE, 'pipe'],
  [APP_INTERCEPTOR, 'interceptor'],
  [APP_FILTER, 'filter'],
];

/** The role of an `APP_GUARD`/`APP_PIPE`/`APP_INTERCEPTOR`/`APP_FILTER` provider (Nest suffixes each token with an id). */
export function globalEnhancerRole(token: unknown): EnhancerRole | undefined {
  if (typeof token !== 'string') return undefined;
  return ROLE_OF_TOKEN.find(([prefix]) => token === prefix || token.startsWith(`${prefix} `))?.[1];
}

/** An HTTP route handler (`@Get()`, `@Post()`, ...). */
export function isRouteHandler(method: unknown): boolean {
  return (
    typeof method === 'function' &&
    Reflect.getMetadata(PATH_METADATA, method) !== undefined &&
    Reflect.getMetadata(METHOD_METADATA, method) !== undefined
  );
}

/** A microservice handler (`@MessagePattern()`, `@EventPattern()`). */
export function isMessageHandler(method: unknown): boolean {
  return typeof method === 'function' && Reflect.getMetadata(PATTERN_METADATA, method) !== undefined;
}

/**
 * The enhancers `@UseGuards()`, `@UsePipes()`, `@UseInterceptors()`, `@UseFilters()` and
 * parameter pipes (`@Param('id', ParseIntPipe)`) name on a class or its methods, as the
 * classes themselves or the instances given (`@UsePipes(new ValidationPipe())`).
 */
export function enhancersDeclaredOn(target: Type, methods: readonly string[]): Array<[EnhancerRole, unknown]> {
  const found: Array<[EnhancerRole, unknown]> = [];
  const hosts: object[] = [target];
  for (const key of methods) {
    const method = findMethod(target.prototype as object, key);
    if (method) hosts.push(method);
  }
  for (const host of hosts) {
    for (const [key, role] of ROLE_OF_KEY) {
      const listed = Reflect.getMetadata(key, host) as unknown[] | undefined;
      if (Array.isArray(listed)) for (const enhancer of listed) found.push([role, enhancer]);
    }
  }
  for (const key of methods) {
    const params = Reflect.getMetadata(ROUTE_ARGS_METADATA, target, key) as
      Record<string, { pipes?: unknown[] }> | undefined;
    for (const param of Object.values(params ?? {})) for (const pipe of param.pipes ?? []) found.push(['pipe', pipe]);
  }
  return found;
}

/** The class of an enhancer given as a class or as an instance; undefined for a plain object or function. */
export function classOf(enhancer: unknown): Type | undefined {
  if (typeof enhancer === 'function') return enhancer.prototype ? (enhancer as Type) : undefined;
  if (typeof enhancer !== 'object' || enhancer === null) return undefined;
  const constructor = (enhancer as { constructor?: unknown }).constructor;
  return typeof constructor === 'function' && constructor !== Object ? (constructor as Type) : undefined;
}
