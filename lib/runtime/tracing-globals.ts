import { context, propagation, ProxyTracerProvider, trace, type TracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { TracingRuntime } from './tracing-runtime.js';

interface SharedHook {
  holders: number;
  value: unknown;
  remove: () => void;
}

/**
 * Everything nestjs-tracing keeps per process, in one owner. A process may host several
 * Nest apps (tests, or a gateway and a worker), each with its own runtime; what exists
 * once per process (the OpenTelemetry globals, a diagnostics-channel subscription, a
 * patched built-in) is installed by the first app that needs it and removed by the last.
 * `reset()` puts the process back as it found it, for tests.
 */
export class TracingGlobals {
  /** Running apps, most recently started last. */
  private static running: TracingRuntime[] = [];
  private static shared = new Map<string, SharedHook>();
  private static ours = new WeakSet<TracerProvider>();
  private static globalProvider: TracerProvider | undefined;
  private static readonly noopProvider = new ProxyTracerProvider().getDelegate();
  /** What decorators use when no app runs: the global OpenTelemetry API (see TracingRuntime.apiOnly). */
  static apiOnlyRuntime: TracingRuntime | undefined;

  /** Called by a runtime when it starts: it becomes the default outside any request. */
  static add(runtime: TracingRuntime): void {
    this.running.push(runtime);
  }

  static remove(runtime: TracingRuntime): void {
    const index = this.running.indexOf(runtime);
    if (index >= 0) this.running.splice(index, 1);
  }

  /** The most recently started app still running, if any. */
  static latest(): TracingRuntime | undefined {
    return this.running[this.running.length - 1];
  }

  /**
   * A process-wide hook that `install` sets up and the function it returns takes down:
   * installed when the first holder asks for `name`, removed when the last one releases.
   * The returned release is idempotent.
   */
  static share(name: string, install: () => () => void): () => void {
    return this.shareValue(name, () => ({ value: undefined, remove: install() })).release;
  }

  /** share() for a hook whose later holders need what the first one installed (e.g. the one patch of a package). */
  static shareValue<T>(
    name: string,
    install: () => { value: T; remove: () => void },
  ): { value: T; release: () => void } {
    let hook = this.shared.get(name);
    if (!hook) {
      hook = { holders: 0, ...install() };
      this.shared.set(name, hook);
    }
    hook.holders++;
    const held = hook;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--held.holders > 0 || this.shared.get(name) !== held) return;
      this.shared.delete(name);
      held.remove();
    };
    return { value: held.value as T, release };
  }

  /** The AsyncLocalStorage context manager and W3C propagators every app relies on. */
  static acquireContext(): () => void {
    return this.share('opentelemetry context and propagation', () => {
      const ownsContext = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      const ownsPropagator = propagation.setGlobalPropagator(
        new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
      );
      return () => {
        if (ownsPropagator) propagation.disable();
        if (ownsContext) context.disable();
      };
    });
  }

  /**
   * Registers `provider` as the global tracer provider if no other is (so code using the
   * OpenTelemetry API directly reports to the first app); released when that app closes.
   */
  static registerProvider(provider: TracerProvider): () => void {
    this.ours.add(provider);
    if (this.globalProvider || this.hasForeignProvider() || !trace.setGlobalTracerProvider(provider)) {
      return () => undefined;
    }
    this.globalProvider = provider;
    return () => {
      if (this.globalProvider !== provider) return;
      trace.disable();
      this.globalProvider = undefined;
    };
  }

  /** True when something other than this library registered the global tracer provider (a preloaded SDK). */
  static hasForeignProvider(): boolean {
    const delegate = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();
    return delegate !== this.noopProvider && !this.ours.has(delegate);
  }

  /** Forgets every app and removes every hook; for tests that must start from a clean process. */
  static reset(): void {
    const hooks = [...this.shared.values()];
    this.shared.clear();
    for (const hook of hooks.reverse()) hook.remove();
    if (this.globalProvider) trace.disable();
    this.globalProvider = undefined;
    this.running = [];
    this.apiOnlyRuntime = undefined;
  }
}
