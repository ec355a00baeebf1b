import { context, trace } from '@opentelemetry/api';
import type { ModulesContainer } from '@nestjs/core';
import { tracedCallIn } from '../../engine/traced-call.js';
import { TracingGlobals } from '../../runtime/tracing-globals.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import type { SpanWrapper } from '../auto-trace/auto-span-site.js';
import { AutoSpans } from '../auto-trace/auto-spans.js';
import { findMethod } from '../auto-trace/methods.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';
import { startOperation, type HookContext, type OperationState, type Operations } from './operation-span.js';
import { isResolverClass, resolvedField } from './resolver-metadata.accessor.js';

/** The key the process-wide map of operation spans is shared under (TracingGlobals). */
const OPERATIONS = { name: 'graphql operations' };
const holdOperations = () =>
  TracingGlobals.shareOn<Operations>(OPERATIONS, 'by request span', () => ({
    value: new WeakMap(),
    remove: () => undefined,
  }));

/**
 * `autoTrace.resolvers` (@nestjs/graphql, Apollo and Mercurius drivers): the operation span
 * (operation-span.ts) through the request hooks @nestjs/graphql offers for instrumentation
 * (ResolverDecoratorHost), and a span per call of a `@Query()`, `@Mutation()` or
 * `@ResolveField()` method beneath it (`nestjs.type=resolver`, `graphql.field.name`); a
 * field without a resolver method gets none. Resolver methods are patched at instantiation
 * (GraphQLModule captures them in onModuleInit); the hooks once the app's modules exist.
 * A hook the app set itself still runs, after ours. Nothing of the package is loaded.
 */
export const resolversInstrumentation: Instrumentation = {
  name: 'resolvers',
  isEnabled: (options) => options.autoTrace.resolvers,
  prepare({ runtime, options, classes }) {
    const resolvers = classes.providers.filter(isResolverClass);
    if (resolvers.length === 0) return;
    const operations = holdOperations();
    const spans = new AutoSpans(runtime, 'resolvers');
    for (const target of resolvers) {
      if (!isAutoTraceableClass(options.autoTrace, target)) continue;
      for (const key of autoTraceableMethods(target)) {
        const field = resolvedField(findMethod(target.prototype as object, key), key);
        if (field)
          spans.trace(target, key, 'resolver', { 'graphql.field.name': field }, resolverCall(operations.value));
      }
    }
    return () => {
      spans.undo();
      operations.release();
    };
  },
  enable({ runtime, options, modules }) {
    const operations = holdOperations();
    const undo = decoratorHosts(modules).map((host) =>
      hookRequests(host, (hook) => startOperation(runtime, operations.value, hook, options.graphql.document), runtime),
    );
    return () => {
      for (const restore of undo.reverse()) restore();
      operations.release();
    };
  },
};

/** A resolver call in the span of its operation, found by the span its request runs in. */
function resolverCall(operations: Operations): SpanWrapper {
  return (site) => {
    const { spec, original } = site;
    return function resolver(this: unknown): unknown {
      const active = context.active();
      const runtime = site.runtimeFor(active);
      // eslint-disable-next-line prefer-rest-params -- passing `arguments` on costs no array per call
      if (runtime === undefined) return Reflect.apply(original, this, arguments);
      const span = trace.getSpan(active);
      const parent = (span && operations.get(span)) ?? active;
      // eslint-disable-next-line prefer-rest-params -- as above
      return tracedCallIn(parent, runtime, spec, original, this, arguments);
    };
  };
}

interface DecoratorHost {
  getOnRequestStartHook(): ((hook: HookContext) => unknown) | undefined;
  getOnRequestEndHook(): ((hook: HookContext & { state?: unknown }) => void) | undefined;
  setOnRequestStartHook(hook: ((hook: HookContext) => unknown) | undefined): void;
  setOnRequestEndHook(hook: ((hook: HookContext & { state?: unknown }) => void) | undefined): void;
}

/** @nestjs/graphql's ResolverDecoratorHost instances of the app, found by class name and shape. */
function decoratorHosts(modules: ModulesContainer): DecoratorHost[] {
  const hosts = new Set<DecoratorHost>();
  for (const moduleRef of modules.values()) {
    for (const wrapper of moduleRef.providers.values()) {
      const instance = wrapper.instance as Partial<DecoratorHost> | null;
      if (wrapper.metatype?.name === 'ResolverDecoratorHost' && typeof instance?.setOnRequestStartHook === 'function')
        hosts.add(instance as DecoratorHost);
    }
  }
  return [...hosts];
}

interface Chained {
  ours?: OperationState;
  theirs?: unknown;
}

/** Our start and end hooks, chained with the ones already there; the undo puts those back. */
function hookRequests(
  host: DecoratorHost,
  start: (hook: HookContext) => OperationState | undefined,
  runtime: TracingRuntime,
): () => void {
  const theirStart = host.getOnRequestStartHook();
  const theirEnd = host.getOnRequestEndHook();
  host.setOnRequestStartHook((hook) => {
    const state: Chained = {};
    try {
      state.ours = start(hook);
    } catch (error) {
      runtime.report('starting a GraphQL operation span', error);
    }
    state.theirs = theirStart?.(hook);
    return state;
  });
  host.setOnRequestEndHook((hook) => {
    const state = hook.state as Chained | undefined;
    try {
      state?.ours?.end(hook);
    } catch (error) {
      runtime.report('ending a GraphQL operation span', error);
    }
    theirEnd?.({ ...hook, state: state?.theirs });
  });
  return () => {
    host.setOnRequestStartHook(theirStart);
    host.setOnRequestEndHook(theirEnd);
  };
}
