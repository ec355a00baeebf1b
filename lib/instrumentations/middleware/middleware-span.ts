import { context, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import { copyMethodMetadata } from '../../decorators/copy-method-metadata.js';
import type { AnyMethod } from '../../engine/method.js';
import { endWithFailure } from '../../engine/span-outcome.js';
import { namedSpanSpec, type SpanSpec } from '../../engine/span-spec.js';
import { startSpanIn } from '../../engine/start-span.js';
import { runtimeIn } from '../../runtime/active-runtime.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import type { SpanWrapper } from '../auto-trace/auto-span-site.js';

type Next = (this: unknown, ...args: unknown[]) => unknown;

/** The wrapper of a class middleware's `use`: see runMiddlewareInSpan. */
export const middlewareSpan: SpanWrapper = (site) => {
  const { spec, original } = site;
  return function tracedUse(this: unknown): unknown {
    const parent = context.active();
    const runtime = site.runtimeFor(parent);
    // eslint-disable-next-line prefer-rest-params -- passing `arguments` on costs no array per call
    if (runtime === undefined) return Reflect.apply(original, this, arguments);
    // eslint-disable-next-line prefer-rest-params -- as above
    return runMiddlewareInSpan(parent, runtime, spec, original, this, arguments);
  };
};

/** A functional middleware (`consumer.apply(cors())`), traced in this app's requests. */
export function tracedMiddlewareFunction(middleware: AnyMethod, runtime: TracingRuntime): AnyMethod {
  const name = middleware.name || 'middleware';
  const spec = namedSpanSpec(name, {
    kind: SpanKind.INTERNAL,
    attributes: { 'code.function.name': name, 'nestjs.type': 'middleware' },
  });
  const traced = function tracedMiddleware(this: unknown): unknown {
    const parent = context.active();
    // eslint-disable-next-line prefer-rest-params -- passing `arguments` on costs no array per call
    if (runtimeIn(parent) !== runtime) return Reflect.apply(middleware, this, arguments);
    // eslint-disable-next-line prefer-rest-params -- as above
    return runMiddlewareInSpan(parent, runtime, spec, middleware, this, arguments);
  };
  copyMethodMetadata(middleware, traced);
  return traced;
}

/**
 * Runs a middleware `(req, res, next)` in a span that ends when it calls `next()` (an
 * error passed to next fails it), when it throws or its Promise rejects, or when the
 * response it sent ends. `next` continues in the request's own context, so the guards,
 * handler and later middleware are its siblings, not its children.
 */
function runMiddlewareInSpan(
  parent: Context,
  runtime: TracingRuntime,
  spec: SpanSpec,
  use: AnyMethod,
  self: unknown,
  args: IArguments,
): unknown {
  let span: Span | undefined;
  try {
    span = typeof args[2] === 'function' ? startSpanIn(parent, runtime, spec, args) : undefined;
  } catch (error) {
    runtime.report('starting a middleware span', error);
  }
  if (span === undefined) return Reflect.apply(use, self, args);
  const started = span;
  let ended = false;
  const end = (error?: unknown): void => {
    if (ended) return;
    ended = true;
    if (error === undefined) started.end();
    else endWithFailure(started, error);
  };
  const next = args[2] as Next;
  const callArgs = Array.prototype.slice.call(args) as unknown[];
  callArgs[2] = function tracedNext(this: unknown, ...nextArgs: unknown[]): unknown {
    end(isNextError(nextArgs[0]) ? nextArgs[0] : undefined);
    return context.with(parent, next, this, ...nextArgs);
  };
  let result: unknown;
  try {
    result = context.with(trace.setSpan(parent, started), () => Reflect.apply(use, self, callArgs));
  } catch (error) {
    end(error);
    throw error;
  }
  if (!ended) {
    if (result instanceof Promise) result.then(undefined, (error: unknown) => end(error));
    endWhenResponseEnds(args[1], end);
  }
  return result;
}

/** Express's `next('route')` and `next('router')` skip routes; they are not failures. */
function isNextError(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== 'route' && value !== 'router';
}

function endWhenResponseEnds(res: unknown, end: () => void): void {
  try {
    const response = res as { once?: (event: string, listener: () => void) => unknown } | null;
    if (typeof response?.once === 'function') response.once('close', () => end());
  } catch {
    // a response we cannot listen to: the span ends at next() or stays open until the middleware settles
  }
}
