import type { MiddlewareConsumer } from '@nestjs/common';
import type { Module } from '@nestjs/core/injector/module.js';
import type { AnyMethod } from '../../engine/method.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { TracingGlobals } from '../../runtime/tracing-globals.js';
import { findMethod } from '../auto-trace/methods.js';

type ConsumerHook = (consumer: MiddlewareConsumer) => void;
interface ConfigureSite {
  readonly apps: Array<{ moduleRef: Module; hook: ConsumerHook; runtime: TracingRuntime }>;
}

/**
 * Middleware is declared in the modules' `configure(consumer)`, which Nest calls in
 * `app.init()`, then instantiates and binds it (`instance.use.bind`) before routes are
 * registered; nothing of ours runs in between. So each module class's `configure` is
 * patched at instantiation to hand `hook` the consumer first. Module classes are shared by
 * every app in the process, so the app is told apart by the module instance `configure`
 * is called on. Returns the undo.
 */
export function hookConfigure(moduleRef: Module, runtime: TracingRuntime, hook: ConsumerHook): () => void {
  const prototype = moduleRef.metatype.prototype as object;
  if (!findMethod(prototype, 'configure')) return () => undefined;
  const { value: site, release } = TracingGlobals.shareOn(prototype, 'configure', () => install(prototype));
  const entry = { moduleRef, hook, runtime };
  site.apps.push(entry);
  return () => {
    site.apps.splice(site.apps.indexOf(entry), 1);
    release();
  };
}

function install(prototype: object): { value: ConfigureSite; remove: () => void } {
  const own = Object.getOwnPropertyDescriptor(prototype, 'configure');
  const original = findMethod(prototype, 'configure') as AnyMethod;
  const site: ConfigureSite = { apps: [] };
  const configure = function configure(this: unknown, consumer: MiddlewareConsumer, ...rest: unknown[]): unknown {
    const entry = site.apps.find((app) => instanceOf(app.moduleRef) === this);
    if (entry && consumer) {
      try {
        entry.hook(consumer);
      } catch (error) {
        entry.runtime.report('tracing middleware', error);
      }
    }
    return Reflect.apply(original, this, [consumer, ...rest]);
  };
  Object.defineProperty(configure, 'length', { value: original.length });
  Object.defineProperty(prototype, 'configure', { value: configure, writable: true, configurable: true });
  const remove = (): void => {
    if (Object.getOwnPropertyDescriptor(prototype, 'configure')?.value !== configure) return;
    if (own) Object.defineProperty(prototype, 'configure', own);
    else delete (prototype as Record<string, unknown>).configure;
  };
  return { value: site, remove };
}

function instanceOf(moduleRef: Module): unknown {
  try {
    return moduleRef.instance;
  } catch {
    return undefined;
  }
}
