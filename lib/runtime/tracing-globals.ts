import {
  context,
  propagation,
  ProxyTracerProvider,
  trace,
  type TextMapPropagator,
  type TracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { TracingRuntime } from './tracing-runtime.js';

interface SharedHook {
  holders: number;
  /** What the first holder's install made, handed to every later holder. */
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
  private static sharedOn = new Map<object, Map<PropertyKey, SharedHook>>();
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
    return this.hold(this.shared, name, () => ({ value: undefined, remove: install() })).release;
  }

  /** `share` for a hook whose later holders need what the first one installed (e.g. the one patch of a package). */
  static shareValue<T>(
    name: string,
    install: () => { value: T; remove: () => void },
  ): { value: T; release: () => void } {
    return this.hold(this.shared, name, install);
  }

  /**
   * `shareValue` for a hook on one property of one object (a method patched on a user's
   * class), keyed by the object itself since class names are not unique.
   */
  static shareOn<T>(
    owner: object,
    property: PropertyKey,
    install: () => { value: T; remove: () => void },
  ): { value: T; release: () => void } {
    let hooks = this.sharedOn.get(owner);
    if (!hooks) {
      hooks = new Map();
      this.sharedOn.set(owner, hooks);
    }
    const held = hooks;
    const { value, release } = this.hold(held, property, install);
    return {
      value,
      release: () => {
        release();
        if (held.size === 0 && this.sharedOn.get(owner) === held) this.sharedOn.delete(owner);
      },
    };
  }

  private static hold<K, T>(
    hooks: Map<K, SharedHook>,
    key: K,
    install: () => { value: T; remove: () => void },
  ): { value: T; release: () => void } {
    let hook = hooks.get(key);
    if (!hook) {
      hook = { holders: 0, ...install() };
      hooks.set(key, hook);
    }
    hook.holders++;
    const held = hook;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (--held.holders > 0 || hooks.get(key) !== held) return;
      hooks.delete(key);
      held.remove();
    };
    return { value: held.value as T, release };
  }

  /**
   * The AsyncLocalStorage context manager every app relies on, and the first app's
   * propagator as the global one, for code that propagates through the OpenTelemetry API
   * (each app's own carriers use its own propagator).
   */
  static acquireContext(propagator: TextMapPropagator): () => void {
    return this.share('opentelemetry context and propagation', () => {
      const ownsContext = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      const ownsPropagator = propagation.setGlobalPropagator(propagator);
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
    const hooks = [...this.shared.values(), ...[...this.sharedOn.values()].flatMap((on) => [...on.values()])];
    this.shared.clear();
    this.sharedOn.clear();
    for (const hook of hooks.reverse()) hook.remove();
    if (this.globalProvider) trace.disable();
    this.globalProvider = undefined;
    this.running = [];
    this.apiOnlyRuntime = undefined;
  }
}
