import { context, type Context } from '@opentelemetry/api';
import { copyMethodMetadata } from '../../decorators/copy-method-metadata.js';
import { isTraced } from '../../decorators/trace.decorator.js';
import type { AnyMethod } from '../../engine/method.js';
import type { SpanSpec } from '../../engine/span-spec.js';
import { tracedCallIn } from '../../engine/traced-call.js';
import { runtimeIn } from '../../runtime/active-runtime.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { TracingGlobals } from '../../runtime/tracing-globals.js';
import { findMethod } from './methods.js';

const SITE = Symbol('nestjs-tracing:auto-span');

/**
 * One method patched for automatic spans: its original, its span (built once, at startup)
 * and the apps that asked for it. A prototype is shared by every app in the process, so
 * the patch is on for an app only while that app is active here: a call makes a span only
 * when the context it runs in carries an app that asked (its request, message or span put
 * it there). Any other call, from another app or from no traced work, is a plain call.
 */
export class AutoSpanSite {
  private first: TracingRuntime | undefined;
  private readonly others: TracingRuntime[] = [];
  private readonly owners = new Map<TracingRuntime, Owns>();

  constructor(
    readonly spec: SpanSpec,
    readonly original: AnyMethod,
  ) {}

  /** The hot-path check: the app in `ctx`, if it asked for this span. */
  runtimeFor(ctx: Context): TracingRuntime | undefined {
    const runtime = runtimeIn(ctx);
    if (runtime === this.first) return runtime;
    return runtime !== undefined && this.others.includes(runtime) ? runtime : undefined;
  }

  /**
   * For an entry point Nest calls outside any traced work (a timer, a queue worker): the app
   * whose instance `self` is, among the apps that said how to tell (`owns`).
   */
  runtimeOwning(self: unknown): TracingRuntime | undefined {
    for (const [runtime, owns] of this.owners) if (owns(self)) return runtime;
    return undefined;
  }

  activate(runtime: TracingRuntime, owns?: Owns): void {
    if (owns) this.owners.set(runtime, owns);
    if (this.first === runtime || this.others.includes(runtime)) return;
    if (this.first === undefined) this.first = runtime;
    else this.others.push(runtime);
  }

  deactivate(runtime: TracingRuntime): void {
    this.owners.delete(runtime);
    if (this.first === runtime) this.first = this.others.shift();
    else if (this.others.includes(runtime)) this.others.splice(this.others.indexOf(runtime), 1);
  }
}

/** True for an instance that belongs to the app (see AutoSpanSite.runtimeOwning). */
export type Owns = (instance: unknown) => boolean;

/** Makes the function that stands in for a site's method. */
export type SpanWrapper = (site: AutoSpanSite) => AnyMethod;

/** The default wrapper: the call runs in a span exactly as under `@Trace()` (sync, Promise, Observable). */
export const callInSpan: SpanWrapper = (site) => {
  const { spec, original } = site;
  return function autoTraced(this: unknown): unknown {
    const parent = context.active();
    const runtime = site.runtimeFor(parent);
    // eslint-disable-next-line prefer-rest-params -- passing `arguments` on costs no array per call
    if (runtime === undefined) return Reflect.apply(original, this, arguments);
    // eslint-disable-next-line prefer-rest-params -- as above
    return tracedCallIn(parent, runtime, spec, original, this, arguments);
  };
};

/**
 * THE primitive every automatic-span instrumentation uses: makes `runtime`'s app record
 * `spec` for each call of method `key` of class `target`, and returns the undo (or
 * undefined when there is nothing to wrap). The wrapper is an own property of
 * `target.prototype`, so it serves singleton and request-scoped instances alike and is in
 * place before Nest captures handler references; an inherited method is shadowed on the
 * subclass, so it is named after the class it is called on. It keeps the method's name,
 * `length` and reflect-metadata. An `@Trace()` method is left alone (the explicit span
 * wins). The first app installs the wrapper, later apps only activate it, and the last
 * to leave puts the original back (TracingGlobals.shareOn).
 *
 * Another instrumentation (gateways, resolvers, listeners, processors) finds its classes
 * and methods, filters them with `autoTraceableMethods`, builds a spec with
 * `autoSpanSpec`, and calls this once per method while the app is being instantiated (the
 * Instrumentation `prepare` phase), keeping the undo functions it returns.
 */
export function traceMethodIn(
  runtime: TracingRuntime,
  target: abstract new (...args: never[]) => unknown,
  key: string,
  spec: SpanSpec,
  wrap: SpanWrapper = callInSpan,
  owns?: Owns,
): (() => void) | undefined {
  const prototype = target.prototype as Record<string, unknown>;
  const current = findMethod(prototype, key);
  if (!current || isTraced(current)) return undefined;
  const { value: site, release } = TracingGlobals.shareOn(prototype, key, () => install(prototype, key, spec, wrap));
  site.activate(runtime, owns);
  return () => {
    site.deactivate(runtime);
    release();
  };
}

function install(
  prototype: Record<string, unknown>,
  key: string,
  spec: SpanSpec,
  wrap: SpanWrapper,
): { value: AutoSpanSite; remove: () => void } {
  const own = Object.getOwnPropertyDescriptor(prototype, key);
  const found = findMethod(prototype, key) as AnyMethod & { [SITE]?: AutoSpanSite };
  // a base class patched for another app: wrap what it wraps, or a call would make two spans
  const original = found[SITE]?.original ?? found;
  const site = new AutoSpanSite(spec, original);
  const wrapper = wrap(site) as AnyMethod & { [SITE]?: AutoSpanSite };
  copyMethodMetadata(original, wrapper);
  Object.defineProperty(wrapper, SITE, { value: site });
  Object.defineProperty(prototype, key, {
    value: wrapper,
    writable: true,
    configurable: true,
    enumerable: own?.enumerable ?? false,
  });
  const remove = (): void => {
    // code that wrapped our wrapper keeps it (now a plain call): removing it would drop theirs
    if (Object.getOwnPropertyDescriptor(prototype, key)?.value !== wrapper) return;
    if (own) Object.defineProperty(prototype, key, own);
    else delete prototype[key];
  };
  return { value: site, remove };
}
