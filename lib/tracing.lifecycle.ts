import { Inject, Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { INSTRUMENTATIONS } from './instrumentations/index.js';
import type { InstrumentedApp } from './instrumentations/instrumentation.js';
import { PreparedInstrumentations } from './instrumentations/prepared-instrumentations.js';
import type { ResolvedOptions } from './options/resolve-options.js';
import { TracingRuntime } from './runtime/tracing-runtime.js';
import { severalTracingModules } from './options/messages.js';
import { TRACING_MODULE_OPTIONS, TRACING_OPTIONS } from './tracing.constants.js';

/**
 * Enables the instrumentations once the app's modules exist (their `prepare` phase ran
 * earlier, see PreparedInstrumentations); undoes both and flushes every span on close.
 */
@Injectable()
export class TracingLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly undo: Array<() => void> = [];

  constructor(
    private readonly runtime: TracingRuntime,
    @Inject(TRACING_OPTIONS) private readonly options: ResolvedOptions,
    private readonly discovery: DiscoveryService,
    private readonly modules: ModulesContainer,
    private readonly prepared: PreparedInstrumentations,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    // two would instrument the same app twice (e.g. an AppModule's and a test's TracingTestingModule)
    const count = [...this.modules.values()].filter((m) => m.providers.has(TRACING_MODULE_OPTIONS)).length;
    if (count > 1) throw new Error(severalTracingModules(count));
    if (!this.options.enabled) return;
    const app: InstrumentedApp = {
      runtime: this.runtime,
      options: this.options,
      discovery: this.discovery,
      modules: this.modules,
      classes: this.prepared.classes,
      httpAdapter: this.adapterHost?.httpAdapter,
    };
    for (const instrumentation of INSTRUMENTATIONS) {
      if (!instrumentation.enable || !instrumentation.isEnabled(this.options)) continue;
      try {
        const undo = instrumentation.enable(app);
        if (undo) this.undo.push(undo);
      } catch (error) {
        this.runtime.report(`enabling the ${instrumentation.name} instrumentation`, error);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const undo of this.undo.splice(0).reverse()) {
      try {
        undo();
      } catch (error) {
        this.runtime.report('removing an instrumentation', error);
      }
    }
    this.prepared.release(this.runtime);
    await this.runtime.shutdown();
  }
}
