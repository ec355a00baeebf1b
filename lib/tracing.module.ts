import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { resolveOptions, type ResolvedOptions } from './options/resolve-options.js';
import type {
  TracingModuleAsyncOptions,
  TracingModuleOptions,
  TracingOptionsFactory,
} from './options/tracing-options.interface.js';
import { TracingRuntime } from './runtime/tracing-runtime.js';
import { TraceService } from './trace.service.js';
import { TRACING_MODULE_OPTIONS, TRACING_OPTIONS } from './tracing.constants.js';
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
  TraceService,
  TracingLifecycle,
];

const exported = [TraceService, TRACING_OPTIONS];

@Module({})
export class TracingModule {
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
