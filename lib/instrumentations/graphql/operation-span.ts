import { context, SpanKind, trace, type Attributes, type Context } from '@opentelemetry/api';
import { endWithErrors, recordHttpStatus } from '../../engine/span-outcome.js';
import { runtimeIn, withRuntime } from '../../runtime/active-runtime.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { serverRequestIn, SPAN_NAME } from '../http-server/server-span.js';
import { maskLiterals, operationOf, type Operation } from './document.js';

/** What @nestjs/graphql hands its request hooks (ResolverDecoratorHost), Apollo and Mercurius drivers alike. */
export interface HookContext {
  query?: string;
  operationName?: string | null;
  context?: Record<string, unknown>;
  errors?: readonly unknown[];
}

/** The operation span of each request, by the span that was active when it started (see resolverCall). */
export type Operations = WeakMap<object, Context>;

export interface OperationState {
  end(hook: HookContext): void;
}

/**
 * Starts the span of one GraphQL operation, `query OrderById` (semconv: `{type} {name}`,
 * `{type}`, else `GraphQL Operation`), a child of the request's span, with
 * `graphql.operation.type`/`.name` and, if opted in, the masked document. Resolver spans
 * find it through `operations`: the drivers run resolvers in the request's context, which
 * a hook cannot change. Undefined when the request is not this app's traced work.
 */
export function startOperation(
  runtime: TracingRuntime,
  operations: Operations,
  hook: HookContext,
  recordDocument: boolean,
): OperationState | undefined {
  const parent = context.active();
  if (runtimeIn(parent) !== runtime) return undefined;
  let op = operationOf(hook.query, hook.operationName);
  const attributes: Attributes = operationAttributes(op);
  if (recordDocument && typeof hook.query === 'string') attributes['graphql.document'] = maskLiterals(hook.query);
  const span = runtime.tracer.startSpan(spanName(op), { kind: SpanKind.INTERNAL, attributes }, parent);
  const key = trace.getSpan(parent);
  if (key) operations.set(key, withRuntime(trace.setSpan(parent, span), runtime));
  const request = serverRequestIn(parent);
  let ended = false;
  const finish = (end: () => void): void => {
    if (ended) return;
    ended = true;
    if (key) operations.delete(key);
    end();
  };
  // Mercurius calls no end hook for a document that fails to parse or validate: the response tells
  const response = responseOf(hook.context);
  response?.once('close', () =>
    finish(() => {
      recordHttpStatus(span, response.statusCode ?? 200, 'server');
      span.end();
    }),
  );
  return {
    end(done) {
      finish(() => {
        if (!op.name && done.operationName) {
          op = operationOf(hook.query, done.operationName);
          span.updateName(spanName(op));
          span.setAttributes(operationAttributes(op));
        }
        if (request) request[SPAN_NAME] = `${request.method ?? 'POST'} ${pathOf(request)} ${spanName(op)}`;
        endWithErrors(span, (done.errors ?? []).map(asGraphqlError));
      });
    },
  };
}

/**
 * Mercurius hands its hook the errors already formatted for the response (message,
 * locations, path): named GraphQLError here, with no cause left to classify them by.
 */
function asGraphqlError(error: unknown): unknown {
  if (error instanceof Error || typeof error !== 'object' || error === null) return error;
  return { name: 'GraphQLError', ...error };
}

function spanName(op: Operation): string {
  if (!op.type) return 'GraphQL Operation';
  return op.name ? `${op.type} ${op.name}` : op.type;
}

function operationAttributes(op: Operation): Attributes {
  const attributes: Attributes = {};
  if (op.type) attributes['graphql.operation.type'] = op.type;
  if (op.name) attributes['graphql.operation.name'] = op.name;
  return attributes;
}

/** The path as the client sent it (Express strips a middleware's mount path from `url`). */
function pathOf(request: { url?: string; originalUrl?: string }): string {
  const path = request.originalUrl ?? request.url ?? '/';
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

interface ResponseLike {
  once(event: 'close', listener: () => void): unknown;
  statusCode?: number;
}

/** The raw response behind a driver's context: Mercurius `reply.raw`, Express `req.res`. */
function responseOf(ctx: Record<string, unknown> | undefined): ResponseLike | undefined {
  const reply = ctx?.reply as { raw?: unknown } | undefined;
  const req = ctx?.req as { res?: unknown } | undefined;
  for (const candidate of [reply?.raw, req?.res]) {
    if (typeof (candidate as Partial<ResponseLike> | undefined)?.once === 'function') return candidate as ResponseLike;
  }
  return undefined;
}
