import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule, ModulesContainer } from '@nestjs/core';
import { ApplicationConfig } from '@nestjs/core/application-config.js';
import { PreparedInstrumentations } from './instrumentations/prepared-instrumentations.js';
import { resolveOptions, type ResolvedOptions } from './options/resolve-options.js';
import type {
  TracingModuleAsyncOptions,
  TracingModuleOptions,
  TracingOptionsFactory,
} from './options/tracing-options.interface.js';
import { TracingRuntime } from './runtime/tracing-runtime.js';
import { TraceService } from './trace.service.js';
import { OWN_MODULE, TRACING_MODULE_OPTIONS, TRACING_OPTIONS } from './tracing.constants.js';
import { TracingLifecycle } from './tracing.lifecycle.js';

const coreProviders: Provider[] = [
  {
    provide: TRACING_OPTIONS,
    inject: [TRACING_MODULE_OPTIONS],
    // Checked and defaulted once, here, so bad configuration stops the app at startup.
    useFactory: (options: TracingModuleOptions) => resolveOptions(options),
  },
  {
    provide: TracingRuntime,
    inject: [TRACING_OPTIONS],
    useFactory: (options: ResolvedOptions) => TracingRuntime.start(options),
  },
  {
    provide: PreparedInstrumentations,
    inject: [TracingRuntime, TRACING_OPTIONS, ModulesContainer, ApplicationConfig],
    // runs while Nest instantiates the app: the one moment before app.init() captures handlers
    useFactory: (
      runtime: TracingRuntime,
      options: ResolvedOptions,
      modules: ModulesContainer,
      config: ApplicationConfig,
    ) => PreparedInstrumentations.prepare(runtime, options, modules, config),
  },
  TraceService,
  TracingLifecycle,
];

const exported = [TraceService, TRACING_OPTIONS];

@Module({})
export class TracingModule {
  static readonly [OWN_MODULE] = true;

  static forRoot(options: TracingModuleOptions = {}): DynamicModule {
    return {
      module: TracingModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [{ provide: TRACING_MODULE_OPTIONS, useValue: options }, ...coreProviders],
      exports: exported,
    };
  }

  static forRootAsync(options: TracingModuleAsyncOptions): DynamicModule {
    return {
      module: TracingModule,
      global: true,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      providers: [...asyncOptionsProviders(options), ...coreProviders],
      exports: exported,
    };
  }
}

function asyncOptionsProviders(options: TracingModuleAsyncOptions): Provider[] {
  if (options.useFactory) {
    // Nest calls the factory with the providers listed in `inject`, which is what its parameters declare.
    const useFactory = options.useFactory as (...args: unknown[]) => TracingModuleOptions;
    return [{ provide: TRACING_MODULE_OPTIONS, useFactory, inject: options.inject ?? [] }];
  }
  const factoryClass = options.useClass ?? options.useExisting;
  if (!factoryClass) {
    throw new Error('nestjs-tracing: TracingModule.forRootAsync() needs one of useFactory, useClass or useExisting.');
  }
  const fromFactory: Provider = {
    provide: TRACING_MODULE_OPTIONS,
    useFactory: (factory: TracingOptionsFactory) => factory.createTracingOptions(),
    inject: [factoryClass],
  };
  return options.useClass ? [fromFactory, { provide: options.useClass, useClass: options.useClass }] : [fromFactory];
}
