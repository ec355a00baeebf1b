import { context, trace } from '@opentelemetry/api';
import { tracedCallIn } from '../../engine/traced-call.js';
import { TracingGlobals } from '../../runtime/tracing-globals.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import type { SpanWrapper } from '../auto-trace/auto-span-site.js';
import { AutoSpans } from '../auto-trace/auto-spans.js';
import { findMethod } from '../auto-trace/methods.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';
import { graphqlWithoutHooks } from '../../options/messages.js';
import { startOperation, type HookContext, type OperationState, type Operations } from './operation-span.js';
import {
  decoratorHosts,
  hasRequestHooks,
  isResolverClass,
  resolvedField,
  type DecoratorHost,
} from './resolver-metadata.accessor.js';

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
 * A hook the app set itself still runs, after ours. Nothing of the package is loaded. A
 * @nestjs/graphql before 13.4.4 has no hooks: then nothing is traced (resolver spans with no
 * operation would hang under the request span) and the log says why, once per app.
 */
export const resolversInstrumentation: Instrumentation = {
  name: 'resolvers',
  isEnabled: (options) => options.autoTrace.resolvers,
  prepare({ runtime, options, classes, modules }) {
    const resolvers = classes.providers.filter(isResolverClass);
    if (resolvers.length === 0) return;
    if (!hasRequestHooks(modules)) {
      runtime.logger.warn(graphqlWithoutHooks());
      return;
    }
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
