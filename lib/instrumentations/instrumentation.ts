import type { DiscoveryService, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { ApplicationConfig } from '@nestjs/core/application-config.js';
import type { ResolvedOptions } from '../options/resolve-options.js';
import type { TracingRuntime } from '../runtime/tracing-runtime.js';
import type { AppClasses } from './auto-trace/nest-explorer.js';

type Undo = (() => void) | void;

/** What an instrumentation sees of an app while Nest instantiates it (the `prepare` phase). */
export interface PreparingApp {
  readonly runtime: TracingRuntime;
  readonly options: ResolvedOptions;
  /** Scanned: every module, controller, provider and enhancer class is known; instances may not exist yet. */
  readonly modules: ModulesContainer;
  /** The same, sorted by the part each class plays (nest-explorer). */
  readonly classes: AppClasses;
  /** Where Nest collects global enhancers: APP_GUARD & co. after instantiation, `app.useGlobal*()` at bootstrap. */
  readonly config: ApplicationConfig;
}

/** What an instrumentation sees of the app it instruments once its modules initialise (the `enable` phase). */
export interface InstrumentedApp {
  readonly runtime: TracingRuntime;
  readonly options: ResolvedOptions;
  readonly discovery: DiscoveryService;
  readonly modules: ModulesContainer;
  readonly classes: AppClasses;
  /** Absent in an app with no HTTP server (a standalone microservice). */
  readonly httpAdapter?: HttpAdapterHost['httpAdapter'];
}

/**
 * One instrumented thing (the HTTP server, outgoing HTTP, microservices, controllers, ...).
 * The module runs every instrumentation the options turn on, once per app; a fault in one
 * is reported and leaves the app and the other instrumentations alone. There are two phases
 * because Nest captures references at different times:
 *
 * - `prepare` runs while Nest instantiates the app's providers (inside NestFactory.create,
 *   or TestingModule.compile), for every kind of app: HTTP, hybrid, standalone microservice,
 *   application context. It is the one moment library code runs before `app.init()`
 *   captures handler references (routes, gateway and message handlers, bound filters and
 *   middleware), which happens before any `onModuleInit`. Automatic spans patch there.
 * - `enable` runs in `onModuleInit`, when every instance exists: the HTTP server, clients
 *   and servers that are changed on their own instance.
 *
 * Each returns the function, if any, that undoes it when the app closes.
 */
export interface Instrumentation {
  /** Says where a fault happened in the log line that reports it. */
  readonly name: string;
  isEnabled(options: ResolvedOptions): boolean;
  /** May be async, to load an optional package the app has (see load-optional.ts). */
  prepare?(app: PreparingApp): Undo | Promise<Undo>;
  enable?(app: InstrumentedApp): (() => void) | void;
}
