import http from 'node:http';
import https from 'node:https';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { ResolvedZipkinOptions } from '../options/zipkin.js';

interface ZipkinSpanLike {
  tags?: Record<string, string>;
}
type Send = (spans: ZipkinSpanLike[], done: (result: ExportResult) => void) => void;

/**
 * The OpenTelemetry Zipkin exporter (v2 JSON), loaded only when chosen. Its sender has no
 * timeout, so a Zipkin that never answers would keep its sockets, and the process, alive
 * after the app has closed; 2.11's `_send(spans, done)` is replaced by the same POST with
 * the export timeout. Spans the exporter marks `otel.status_code=ERROR` without a message
 * also get Zipkin's own `error` tag (its `error.type`), which is what Zipkin UI and Jaeger
 * show as a failure.
 */
export async function createZipkinExporter(
  options: ResolvedZipkinOptions,
  timeoutMillis: number,
): Promise<SpanExporter> {
  const { ZipkinExporter } = await import('@opentelemetry/exporter-zipkin');
  const exporter = new ZipkinExporter({ url: options.url, headers: options.headers });
  const internals = exporter as unknown as { _send?: Send };
  if (typeof internals._send === 'function') internals._send = boundedSend(options, timeoutMillis);
  return exporter;
}

function boundedSend({ url, headers }: ResolvedZipkinOptions, timeoutMillis: number): Send {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  const requestOptions = {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    timeout: timeoutMillis,
  };
  return (spans, done) => {
    if (spans.length === 0) return done({ code: ExportResultCode.SUCCESS });
    let error: Error | undefined;
    // 'close' comes last, after the response ended, the connection failed or the timeout struck
    const req = transport.request(target, requestOptions, (res) => res.resume());
    req.once('timeout', () => req.destroy(new Error(`Zipkin did not answer within ${timeoutMillis} ms`)));
    req.on('error', (e) => (error ??= e));
    req.once('close', () => {
      const res = (req as http.ClientRequest & { res?: http.IncomingMessage }).res;
      const status = res?.complete ? (res.statusCode ?? 0) : 0;
      if (!error && status > 0 && status < 400) return done({ code: ExportResultCode.SUCCESS });
      done({
        code: ExportResultCode.FAILED,
        error: error ?? new Error(status ? `Zipkin answered ${status}` : 'Zipkin closed the connection'),
      });
    });
    req.end(JSON.stringify(spans.map(withErrorTag)));
  };
}

function withErrorTag(span: ZipkinSpanLike): ZipkinSpanLike {
  const tags = span.tags;
  if (!tags || tags['otel.status_code'] !== 'ERROR' || tags.error !== undefined) return span;
  return { ...span, tags: { ...tags, error: tags['error.type'] ?? 'ERROR' } };
}
