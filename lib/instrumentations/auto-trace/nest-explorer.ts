import type { Type } from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { Module } from '@nestjs/core/injector/module.js';
import { OWN_MODULE } from '../../tracing.constants.js';
import { methodNames } from './methods.js';
import { classOf, enhancersDeclaredOn, globalEnhancerRole, type EnhancerRole } from './nest-metadata.accessor.js';

/** The classes of one app, by the part they play, as Nest's container knows them once scanned. */
export interface AppClasses {
  /** Every controller class. */
  readonly controllers: Type[];
  /** Every class used as an enhancer, with the roles it is used in. */
  readonly enhancers: Map<Type, Set<EnhancerRole>>;
  /** The provider classes: class providers, and the classes of `useValue` instances. */
  readonly providers: Type[];
  /** Providers made by a factory: their class is known only once Nest has created them. */
  readonly madeByFactory: InstanceWrapper[];
  /** The app's modules, with the module classes themselves. */
  readonly modules: Module[];
}

/**
 * Discovery for automatic spans, like @nestjs/schedule's ScheduleExplorer: walks the
 * scanned container once and sorts what it finds; it reads no metadata key itself
 * (nest-metadata.accessor does) and decides nothing about spans (the instrumentations
 * and `traceable` do). It runs while the app is being instantiated, so it uses classes
 * and the container's structure only; an instance may not exist yet. The library's own
 * modules are left out.
 */
export function exploreApp(container: ModulesContainer): AppClasses {
  const found: AppClasses = { controllers: [], enhancers: new Map(), providers: [], madeByFactory: [], modules: [] };
  for (const moduleRef of container.values()) {
    if ((moduleRef.metatype as { [OWN_MODULE]?: true } | undefined)?.[OWN_MODULE]) continue;
    found.modules.push(moduleRef);
    for (const wrapper of moduleRef.controllers.values()) {
      const target = wrapper.metatype as Type | null;
      if (!target || found.controllers.includes(target)) continue;
      found.controllers.push(target);
      addDeclaredEnhancers(found.enhancers, target);
    }
    for (const wrapper of moduleRef.injectables.values()) {
      // Nest's enhancer subtypes are the roles' names
      const role: EnhancerRole | undefined = wrapper.subtype;
      const target = wrapper.isNotMetatype ? undefined : (wrapper.metatype as Type);
      if (role && target) addRole(found.enhancers, target, role);
    }
    for (const wrapper of moduleRef.providers.values()) {
      if (wrapper.metatype === moduleRef.metatype) continue; // the module class itself
      // APP_GUARD & co. made by a factory reach the app's config, where enhancers watches them
      const role = globalEnhancerRole(wrapper.token);
      if (wrapper.isFactory) {
        if (!role) found.madeByFactory.push(wrapper);
        continue;
      }
      const target = wrapper.metatype ? (wrapper.metatype as Type) : classOf(wrapper.instance);
      if (target && role) addRole(found.enhancers, target, role);
      if (!target || role || found.providers.includes(target)) continue;
      found.providers.push(target);
      // gateways and resolvers declare enhancers as controllers do
      addDeclaredEnhancers(found.enhancers, target);
    }
  }
  return found;
}

function addDeclaredEnhancers(enhancers: AppClasses['enhancers'], host: Type): void {
  for (const [role, enhancer] of enhancersDeclaredOn(host, methodNames(host.prototype as object))) {
    const target = classOf(enhancer);
    if (target) addRole(enhancers, target, role);
  }
}

export function addRole(enhancers: AppClasses['enhancers'], target: Type, role: EnhancerRole): void {
  let roles = enhancers.get(target);
  if (!roles) {
    roles = new Set();
    enhancers.set(target, roles);
  }
  roles.add(role);
}

/**
 * Whether an instance is one of this app's instances of `target` (singletons: what Nest's
 * container holds once it has created them). Built at startup, asked per call of an entry
 * point that runs outside traced work, so the call is traced by the app that owns it.
 */
export function ownedBy(container: ModulesContainer, target: Type): (instance: unknown) => boolean {
  const wrappers: InstanceWrapper[] = [];
  for (const moduleRef of container.values()) {
    for (const wrapper of [...moduleRef.providers.values(), ...moduleRef.controllers.values()]) {
      if (wrapper.metatype === target || (!wrapper.metatype && classOf(wrapper.instance) === target)) {
        wrappers.push(wrapper);
      }
    }
  }
  return (instance) => instance instanceof target && wrappers.some((wrapper) => wrapper.instance === instance);
}
