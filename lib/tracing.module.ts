import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { resolveOptions } from './resolve-options.js';
import { addRunning } from './runtime/active-runtime.js';
import { TracingRuntime } from './runtime/tracing-runtime.js';
import { TraceService } from './trace.service.js';
import { TracingLifecycle } from './tracing.lifecycle.js';
import { TRACING_MODULE_OPTIONS } from './tracing.constants.js';
import type {
  TracingModuleAsyncOptions,
  TracingModuleOptions,
  TracingOptionsFactory,
} from './tracing-options.interface.js';

const runtimeProvider: Provider = {
  provide: TracingRuntime,
  inject: [TRACING_MODULE_OPTIONS],
  // Options are checked and defaulted once here, so bad configuration stops the app at startup.
  useFactory: async (options: TracingModuleOptions) => {
    const runtime = await TracingRuntime.start(resolveOptions(options));
    addRunning(runtime);
    return runtime;
  },
};

const exported = [TraceService];

@Module({})
export class TracingModule {
  static forRoot(options: TracingModuleOptions = {}): DynamicModule {
    return {
      module: TracingModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: TRACING_MODULE_OPTIONS, useValue: options },
        runtimeProvider,
        TraceService,
        TracingLifecycle,
      ],
      exports: exported,
    };
  }

  static forRootAsync(options: TracingModuleAsyncOptions): DynamicModule {
    return {
      module: TracingModule,
      global: true,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      providers: [...asyncOptionsProviders(options), runtimeProvider, TraceService, TracingLifecycle],
      exports: exported,
    };
  }
}

function asyncOptionsProviders(options: TracingModuleAsyncOptions): Provider[] {
  if (options.useFactory) {
    return [{ provide: TRACING_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }];
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
