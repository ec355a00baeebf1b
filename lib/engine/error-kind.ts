/*
 * How span-outcome classifies an error: an answer or a failure, and its `error.type`.
 * Errors of optional peers (WsException, GraphQLError) are recognised by class name.
 */

/**
 * An answer, not a failure: a Nest HttpException below 500 (NotFound, Forbidden...); a
 * WsException (what a gateway sends the client as an `exception` message, the WebSocket
 * counterpart of a 4xx; a guard's refusal is one); a GraphQL error with a client code or a
 * 4xx `extensions.http.status` (a document that does not parse or validate), or wrapping an answer.
 */
export function isClientError(error: unknown): boolean {
  try {
    const status = (error as { getStatus?: () => unknown } | null)?.getStatus?.();
    if (typeof status === 'number') return status < 500;
    if (isA(error, 'WsException')) return true;
    const graphql = graphqlParts(error);
    if (!graphql) return false;
    if (typeof graphql.code === 'string' && GRAPHQL_CLIENT_CODES.has(graphql.code)) return true;
    if (typeof graphql.httpStatus === 'number') return graphql.httpStatus < 500;
    return graphql.original !== undefined && isClientError(graphql.original);
  } catch {
    return false;
  }
}

/** Apollo's and Mercurius's codes for a request the client got wrong. */
const GRAPHQL_CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'OPERATION_RESOLUTION_FAILURE',
  'MER_ERR_GQL_VALIDATION',
]);

/** A GraphQLError's cause and `extensions.code`, read without importing graphql. */
function graphqlParts(error: unknown): { original?: unknown; code?: unknown; httpStatus?: unknown } | undefined {
  if (!isA(error, 'GraphQLError')) return undefined;
  const e = error as { originalError?: unknown; extensions?: { code?: unknown; http?: { status?: unknown } } };
  const original = e.originalError === null || e.originalError === error ? undefined : e.originalError;
  return { original, code: e.extensions?.code, httpStatus: e.extensions?.http?.status };
}

/** True when `error`'s class or one it extends is named `name` (for classes of optional peers, never imported). */
function isA(error: unknown, name: string): boolean {
  if (!(error instanceof Error)) return false;
  for (let proto: unknown = Object.getPrototypeOf(error); proto && proto !== Error.prototype;) {
    if ((proto as { constructor?: { name?: unknown } }).constructor?.name === name) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

/**
 * A system error's code (ECONNREFUSED), else the error's class, else a code or name it
 * carries; for a GraphQL error, its `extensions.code`, else its cause's type.
 */
export function errorTypeOf(error: unknown): string {
  const graphql = graphqlParts(error);
  if (typeof graphql?.code === 'string') return graphql.code;
  if (graphql?.original !== undefined) return errorTypeOf(graphql.original);
  const e = error as { code?: unknown; name?: unknown; constructor?: { name?: unknown } } | null;
  if (typeof e?.code === 'string' && e.code !== '') return e.code;
  if (error instanceof Error) {
    return typeof e?.constructor?.name === 'string' && e.constructor.name !== '' ? e.constructor.name : error.name;
  }
  if (e && typeof e === 'object') {
    if (typeof e.code === 'string' || typeof e.code === 'number') return String(e.code);
    if (typeof e.name === 'string') return e.name;
  }
  return '_OTHER';
}
