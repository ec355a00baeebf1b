import { Logger } from '@nestjs/common';
import { propagation, trace, type TextMapPropagator, type Tracer, type TracerOptions } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createSpanProcessors } from '../export/create-span-processors.js';
import type { ExportStats } from '../export/export-stats.js';
import type { GuardedExporter } from '../export/guarded-exporter.js';
import { resolveOptions, type ResolvedOptions } from '../options/resolve-options.js';
import { createPropagator } from '../propagation/create-propagator.js';
import { TRACER_NAME } from '../tracing.constants.js';
import { shutdownTimedOut, tracingFault, usingGlobalProvider } from '../options/messages.js';
import { RecordProvider } from '../pipeline/record-provider.js';
import { TracingGlobals } from './tracing-globals.js';

/**
 * One app's tracing: its tracer, its resolved options and, unless a preloaded SDK
 * is in charge, the tracer provider and exporters it owns. Started when the module
 * starts, registered with the process-wide state until it shuts down.
 */
export class TracingRuntime {
  private readonly reported = new Set<string>();
  private readonly releases: Array<() => void> = [];

  constructor(
    readonly tracer: Tracer,
    readonly options: ResolvedOptions,
    /** True when our parent-based sampler decides, so a child of an unsampled parent can skip the span. */
    readonly ownsSampler: boolean,
    readonly logger: Logger = new Logger('Tracing'),
    private readonly provider?: RecordProvider,
    private readonly exporters: GuardedExporter[] = [],
    /** What this app's carriers read and write: its `propagators`, or the global one under a preloaded SDK. */
    readonly propagator: TextMapPropagator = propagation,
  ) {}

  static async start(options: ResolvedOptions, logger = new Logger('Tracing')): Promise<TracingRuntime> {
    if (!options.enabled) {
      return new TracingRuntime(trace.getTracerProvider().getTracer('disabled'), options, false, logger);
    }
    const propagator = await createPropagator(options.propagators);
    if (TracingGlobals.hasForeignProvider()) {
      logger.log(usingGlobalProvider());
      const runtime = new TracingRuntime(trace.getTracer(TRACER_NAME), options, false, logger);
      return runtime.register(propagator);
    }
    const { processors, exporters } = await createSpanProcessors(options, logger);
    const provider = new RecordProvider({
      resource: resourceFromAttributes(options.resourceAttributes),
      sampleRatio: options.sampleRatio,
      limits: {
        attributeValueLengthLimit: options.attributeValueLengthLimit,
        attributeCountLimit: options.attributeCountLimit,
        attributePerEventCountLimit: options.attributeCountLimit,
        attributePerLinkCountLimit: options.attributeCountLimit,
        eventCountLimit: options.eventCountLimit,
        linkCountLimit: options.linkCountLimit,
        redactor: options.redact,
      },
      processors: [...options.spanProcessors, ...processors],
    });
    const tracer = provider.getTracer(TRACER_NAME);
    const runtime = new TracingRuntime(tracer, options, true, logger, provider, exporters, propagator);
    runtime.register(propagator);
    runtime.releases.push(TracingGlobals.registerProvider(provider));
    return runtime;
  }

  /** What decorators use when no app runs: spans go to the global OpenTelemetry API, if anything. */
  static apiOnly(): TracingRuntime {
    TracingGlobals.apiOnlyRuntime ??= new TracingRuntime(
      trace.getTracer(TRACER_NAME),
      resolveOptions({ exporter: 'none' }),
      false,
    );
    return TracingGlobals.apiOnlyRuntime;
  }

  /** A tracer of this app under another instrumentation scope (an OpenTelemetry instrumentation's name and version). */
  tracerFor(name: string, version?: string, options?: TracerOptions): Tracer {
    return (this.provider ?? trace.getTracerProvider()).getTracer(name, version, options);
  }

  /** True while the runtime holds the process-wide state (between start and shutdown). */
  get running(): boolean {
    return this.releases.length > 0;
  }

  /** Logs a tracing fault once per place, so a broken span path never floods the log. */
  report(where: string, error: unknown): void {
    if (this.reported.has(where)) return;
    this.reported.add(where);
    this.logger.warn(tracingFault(where, error));
  }

  /** Exports every finished span and waits for the exports under way (each bounded by the export timeout). */
  async forceFlush(): Promise<void> {
    if (this.provider) await this.provider.forceFlush();
    else if (this.running) await flushGlobal();
    await Promise.all(this.exporters.map((exporter) => exporter.forceFlush()));
  }

  /** Per exporter: spans exported, dropped (and why), queued and in flight, and whether it is failing. */
  exportStats(): ExportStats[] {
    return this.exporters.map((exporter) => exporter.stats());
  }

  /** Flushes every finished span, bounded by shutdownTimeoutMs, and gives back the process-wide state; never rejects. */
  async shutdown(): Promise<void> {
    if (!this.running) return;
    TracingGlobals.remove(this);
    const releases = this.releases.splice(0);
    const ms = this.options.shutdownTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    try {
      for (const exporter of this.exporters) exporter.beginShutdown();
      const work = this.provider ? this.provider.shutdown() : flushGlobal();
      const outcome = await Promise.race([work.then(() => 'done' as const), timedOut]);
      if (outcome === 'timeout') this.logger.warn(shutdownTimedOut(ms));
    } catch (error) {
      this.report('shutdown', error);
    } finally {
      clearTimeout(timer);
      for (const exporter of this.exporters) exporter.reportAtShutdown();
      for (const release of releases.reverse()) release();
    }
  }

  /** `propagator` becomes the global one if nothing else has registered one. */
  private register(propagator: TextMapPropagator): this {
    this.releases.push(TracingGlobals.acquireContext(propagator));
    TracingGlobals.add(this);
    return this;
  }
}

/** A preloaded SDK owns its own shutdown; we only flush what this app produced. */
async function flushGlobal(): Promise<void> {
  const provider = trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } };
  await provider.getDelegate?.().forceFlush?.();
}
