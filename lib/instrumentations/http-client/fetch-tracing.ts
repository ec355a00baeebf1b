import diagnostics from 'node:diagnostics_channel';
import type { Span } from '@opentelemetry/api';
import { endClientSpan, startClientSpan } from './client-span.js';

interface UndiciRequest {
  method: string;
  origin: string;
  path: string;
  addHeader(name: string, value: string): unknown;
}

interface InFlight {
  span: Span;
  statusCode?: number;
}

/*
 * Global fetch is undici, which reports every request on diagnostics channels: the
 * supported way to see it from ESM, with no preload and no patching.
 */
const inFlight = new WeakMap<UndiciRequest, InFlight>();

function onCreate({ request }: { request: UndiciRequest }): void {
  let url: URL;
  try {
    url = new URL(request.path, request.origin);
  } catch {
    return;
  }
  const started = startClientSpan({ method: request.method, url });
  if (!started) return;
  inFlight.set(request, { span: started.span });
  for (const [name, value] of Object.entries(started.headers)) request.addHeader(name, value);
}

function onHeaders({ request, response }: { request: UndiciRequest; response: { statusCode: number } }): void {
  const entry = inFlight.get(request);
  if (entry) entry.statusCode = response.statusCode;
}

/** The status arrives with the headers; the call is over once the body (and trailers) are in. */
function onTrailers({ request }: { request: UndiciRequest }): void {
  const entry = inFlight.get(request);
  if (!entry) return;
  inFlight.delete(request);
  endClientSpan(entry.span, entry.statusCode);
}

function onError({ request, error }: { request: UndiciRequest; error: unknown }): void {
  const entry = inFlight.get(request);
  if (!entry) return;
  inFlight.delete(request);
  endClientSpan(entry.span, entry.statusCode, error);
}

// each channel publishes the message shape its handler declares
const channels: Array<[string, diagnostics.ChannelListener]> = [
  ['undici:request:create', onCreate as diagnostics.ChannelListener],
  ['undici:request:headers', onHeaders as diagnostics.ChannelListener],
  ['undici:request:trailers', onTrailers as diagnostics.ChannelListener],
  ['undici:request:error', onError as diagnostics.ChannelListener],
];

/** Subscribes unless something else (a preloaded undici instrumentation) already traces fetch. */
export function subscribeFetch(): () => void {
  if (diagnostics.channel('undici:request:create').hasSubscribers) return () => undefined;
  for (const [name, handler] of channels) diagnostics.subscribe(name, handler);
  return () => {
    for (const [name, handler] of channels) diagnostics.unsubscribe(name, handler);
  };
}
