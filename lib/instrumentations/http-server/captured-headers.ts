import type { Span } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REDACTED } from '../../attributes/redact.js';
import { toAttributeValue } from '../../attributes/to-attribute-value.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';

/**
 * Header values as the stable semconv wants them (a string array), through the redaction
 * patterns (matched on the attribute key and on the header name) and the length cap.
 */
function headerAttribute(
  runtime: TracingRuntime,
  prefix: string,
  name: string,
  value: unknown,
): [string, string[]] | undefined {
  if (value === undefined) return undefined;
  const key = `${prefix}${name}`;
  const { redact, attributeValueLengthLimit } = runtime.options;
  if (redact.matches(key) || redact.matches(name)) return [key, [REDACTED]];
  const values = (Array.isArray(value) ? value : [value]).map(String);
  return [key, toAttributeValue(values, attributeValueLengthLimit) as string[]];
}

export function recordRequestHeaders(span: Span, req: IncomingMessage, runtime: TracingRuntime): void {
  for (const name of runtime.options.captureHeaders.request) {
    const attribute = headerAttribute(runtime, 'http.request.header.', name, req.headers[name]);
    if (attribute) span.setAttribute(attribute[0], attribute[1]);
  }
}

export function recordResponseHeaders(span: Span, res: ServerResponse, runtime: TracingRuntime): void {
  let sent: Map<string, string[]> | undefined;
  for (const name of runtime.options.captureHeaders.response) {
    let value: unknown = res.getHeader(name);
    // Headers given straight to writeHead() (Fastify does) are only in the header block sent.
    if (value === undefined) value = (sent ??= sentHeaders(res)).get(name);
    const attribute = headerAttribute(runtime, 'http.response.header.', name, value);
    if (attribute) span.setAttribute(attribute[0], attribute[1]);
  }
}

/** The response's header block as written to the socket, by lower-case name. */
function sentHeaders(res: ServerResponse): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  const block = (res as { _header?: unknown })._header;
  if (typeof block !== 'string') return headers;
  for (const line of block.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return headers;
}
