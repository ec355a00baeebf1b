import { check, isPlainObject } from './checks.js';
import type { GraphqlOptions } from './tracing-options.interface.js';

export interface ResolvedGraphql {
  document: boolean;
}

export function resolveGraphql(option: unknown): ResolvedGraphql {
  check(option === undefined || isPlainObject(option), 'graphql', 'an object', option);
  const document = (option as GraphqlOptions | undefined)?.document ?? false;
  check(typeof document === 'boolean', 'graphql.document', 'true or false', document);
  return { document };
}
