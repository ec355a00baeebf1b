/*
 * What the operation span needs from a GraphQL document, read with a small lexer instead of
 * graphql's parser (an optional peer, and a second parse of every request): which
 * operation runs (type and name), and the document with its literal values masked.
 */

type Token = { kind: 'name' | 'punct' | 'string' | 'number' | 'comment'; text: string };

const PUNCTUATION = /[!$&()[\]{}:=@|]/;
const NAME = /[_A-Za-z][_0-9A-Za-z]*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function* tokens(source: string): Generator<Token> {
  let at = 0;
  while (at < source.length) {
    const c = source.charAt(at);
    if (/[\s,\uFEFF]/.test(c)) at++;
    else if (c === '#') {
      const end = source.indexOf('\n', at);
      yield { kind: 'comment', text: source.slice(at, end === -1 ? undefined : end) };
      at = end === -1 ? source.length : end;
    } else if (source.startsWith('"""', at)) {
      let end = source.indexOf('"""', at + 3);
      while (end !== -1 && source.charAt(end - 1) === '\\') end = source.indexOf('"""', end + 3);
      at = end === -1 ? source.length : end + 3;
      yield { kind: 'string', text: '' };
    } else if (c === '"') {
      let end = at + 1;
      while (end < source.length && source.charAt(end) !== '"' && source.charAt(end) !== '\n')
        end += source.charAt(end) === '\\' ? 2 : 1;
      at = end + 1;
      yield { kind: 'string', text: '' };
    } else if (source.startsWith('...', at)) {
      at += 3;
      yield { kind: 'punct', text: '...' };
    } else if (PUNCTUATION.test(c)) {
      at++;
      yield { kind: 'punct', text: c };
    } else {
      const matched = match(NAME, source, at) ?? match(NUMBER, source, at);
      if (matched === undefined) {
        at++; // not GraphQL: skipped
        continue;
      }
      at += matched.length;
      yield { kind: /\d|-/.test(matched.charAt(0)) ? 'number' : 'name', text: matched };
    }
  }
}

function match(pattern: RegExp, source: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(source)?.[0];
}

export interface Operation {
  /** `query`, `mutation` or `subscription`; undefined when the document names no operation that can run. */
  type?: string;
  name?: string;
}

const OPERATION_TYPES = new Set(['query', 'mutation', 'subscription']);

/** The operation a request runs: the one named `operationName`, else the document's only one. */
export function operationOf(document: string | undefined, operationName?: string | null): Operation {
  if (typeof document !== 'string') return {};
  const found: Operation[] = [];
  let braces = 0;
  let parens = 0;
  let pending: 'operation' | 'other' | undefined; // a definition whose selection set has not opened yet
  let naming: Operation | undefined;
  for (const token of tokens(document)) {
    if (token.kind === 'comment') continue;
    if (naming) {
      if (token.kind === 'name') naming.name = token.text;
      naming = undefined;
    }
    if (token.text === '(') parens++;
    else if (token.text === ')') parens--;
    if (parens > 0) continue;
    if (token.text === '{') {
      if (braces === 0 && pending === undefined) found.push({ type: 'query' });
      pending = undefined;
      braces++;
    } else if (token.text === '}') braces--;
    else if (braces === 0 && token.kind === 'name' && pending === undefined) {
      pending = OPERATION_TYPES.has(token.text) ? 'operation' : 'other';
      if (pending === 'operation') found.push((naming = { type: token.text }));
    }
  }
  if (typeof operationName === 'string' && operationName !== '') {
    return found.find((op) => op.name === operationName) ?? { name: operationName };
  }
  return found.length === 1 ? (found[0] as Operation) : {};
}

/** The document with every string and number literal replaced by `"*"` / `*`, and comments dropped (compacted). */
export function maskLiterals(document: string): string {
  let out = '';
  let previous: Token | undefined;
  for (const token of tokens(document)) {
    if (token.kind === 'comment') continue;
    if (previous && previous.kind !== 'punct' && token.kind !== 'punct') out += ' ';
    out += token.kind === 'string' ? '"*"' : token.kind === 'number' ? '*' : token.text;
    previous = token;
  }
  return out;
}
