import type { DiscoveryService, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { ResolvedOptions } from '../options/resolve-options.js';
import type { TracingRuntime } from '../runtime/tracing-runtime.js';

/** What an instrumentation sees of the app it instruments. */
export interface InstrumentedApp {
  readonly runtime: TracingRuntime;
  readonly options: ResolvedOptions;
  readonly discovery: DiscoveryService;
  readonly modules: ModulesContainer;
  /** Absent in an app with no HTTP server (a standalone microservice). */
  readonly httpAdapter?: HttpAdapterHost['httpAdapter'];
}

/**
 * One instrumented thing (the HTTP server, outgoing HTTP, microservices, ...). The module
 * enables every instrumentation the options turn on, once per app, when the app starts;
 * a fault in one is reported and leaves the app and the other instrumentations alone.
 */
export interface Instrumentation {
  /** Says where a fault happened in the log line that reports it. */
  readonly name: string;
  isEnabled(options: ResolvedOptions): boolean;
  /** Instruments the app; the function returned, if any, undoes it when the app closes. */
  enable(app: InstrumentedApp): (() => void) | void;
}
