import type { ModulesContainer } from '@nestjs/core';
import type { ApplicationConfig } from '@nestjs/core/application-config.js';
import type { ResolvedOptions } from '../options/resolve-options.js';
import type { TracingRuntime } from '../runtime/tracing-runtime.js';
import { exploreApp, type AppClasses } from './auto-trace/nest-explorer.js';
import { INSTRUMENTATIONS } from './index.js';

/**
 * The `prepare` phase (see Instrumentation), run by a factory provider of TracingModule:
 * Nest calls it while it instantiates the app, after scanning every module, before
 * `app.init()`. Holds what the phase found and the functions that undo it.
 */
export class PreparedInstrumentations {
  private constructor(
    readonly classes: AppClasses,
    private readonly undo: Array<() => void>,
  ) {}

  static async prepare(
    runtime: TracingRuntime,
    options: ResolvedOptions,
    modules: ModulesContainer,
    config: ApplicationConfig,
  ): Promise<PreparedInstrumentations> {
    const empty = new PreparedInstrumentations(exploreNothing(), []);
    if (!options.enabled) return empty;
    let classes: AppClasses;
    try {
      classes = exploreApp(modules);
    } catch (error) {
      runtime.report('exploring the app for automatic spans', error);
      return empty;
    }
    const prepared = new PreparedInstrumentations(classes, []);
    for (const instrumentation of INSTRUMENTATIONS) {
      if (!instrumentation.prepare || !instrumentation.isEnabled(options)) continue;
      try {
        const undo = await instrumentation.prepare({ runtime, options, modules, classes, config });
        if (undo) prepared.undo.push(undo);
      } catch (error) {
        runtime.report(`preparing the ${instrumentation.name} instrumentation`, error);
      }
    }
    return prepared;
  }

  /** Undoes the phase, last prepared first; called when the app closes. */
  release(runtime: TracingRuntime): void {
    for (const undo of this.undo.splice(0).reverse()) {
      try {
        undo();
      } catch (error) {
        runtime.report('removing an instrumentation', error);
      }
    }
  }
}

function exploreNothing(): AppClasses {
  return { controllers: [], enhancers: new Map(), providers: [], madeByFactory: [], modules: [] };
}
