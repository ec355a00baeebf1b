import type { IncomingMessage } from 'node:http';
import type { IgnoreRule } from '../../options/tracing-options.interface.js';

export function isIgnored(rules: readonly IgnoreRule[], path: string, req: IncomingMessage): boolean {
  for (const rule of rules) {
    if (typeof rule === 'string' ? rule === path : rule instanceof RegExp ? rule.test(path) : safeCall(rule, path, req))
      return true;
  }
  return false;
}

function safeCall(rule: (path: string, req: IncomingMessage) => boolean, path: string, req: IncomingMessage): boolean {
  try {
    return rule(path, req) === true;
  } catch {
    return false;
  }
}
