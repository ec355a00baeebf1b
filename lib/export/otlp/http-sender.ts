import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { backoffMs, isRetryableError, isRetryableStatus, retryAfterMs } from './retry-policy.js';

/** The OpenTelemetry exporter's resolved configuration (the package does not export its type by name). */
type OtlpNodeHttpConfiguration = ReturnType<typeof convertLegacyHttpOptions>;

const gzipped = promisify(gzip);
/** Answers are a few bytes; a collector sending more than this is cut off. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const USER_AGENT = 'nestjs-tracing OTel-OTLP-Exporter-JavaScript/0.222.0';

/** One attempt's outcome: the answer's bytes, or why not and whether to try again. */
type Attempt = { ok: true; body: Buffer } | { ok: false; error: Error; retryable: boolean; retryAfter?: number };

/**
 * POSTs encoded export requests to the collector: one write of a body of known length on
 * a kept-alive connection (the OpenTelemetry transport pipes a stream per export, chunked,
 * and parses the URL each time), retried as retry-policy says, within the export timeout.
 * URL, headers, compression, TLS agent and timeout are the OpenTelemetry exporter's own
 * configuration, environment variables included.
 */
export class OtlpHttpSender {
  private readonly target: RequestOptions;
  private readonly request: typeof httpRequest;
  private agent?: Promise<Agent>;
  private closed = false;

  constructor(private readonly settings: OtlpNodeHttpConfiguration) {
    const url = new URL(settings.url);
    this.request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    this.target = {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: url.pathname + url.search,
    };
  }

  /** Resolves with the collector's answer; rejects with the last failure once no retry is left. */
  async send(body: Uint8Array): Promise<Buffer> {
    const deadline = Date.now() + this.settings.timeoutMillis;
    const headers: Record<string, string | number> = { ...(await this.settings.headers()), 'User-Agent': USER_AGENT };
    let payload = body;
    if (this.settings.compression === 'gzip') {
      payload = await gzipped(body);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = payload.length;
    this.agent ??= Promise.resolve(this.settings.agentFactory(this.target.protocol as string));
    const agent = await this.agent;
    for (let retry = 0; ; retry++) {
      const attempt = await this.attempt(payload, headers, agent, deadline - Date.now());
      if (attempt.ok) return attempt.body;
      const wait = attempt.retryable ? backoffMs(retry, attempt.retryAfter) : undefined;
      if (wait === undefined || this.closed || Date.now() + wait > deadline) throw attempt.error;
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
  }

  /** Closes the idle connections; what is in flight finishes or times out. */
  async shutdown(): Promise<void> {
    this.closed = true;
    if (this.agent) (await this.agent).destroy();
  }

  private attempt(payload: Uint8Array, headers: RequestOptions['headers'], agent: Agent, timeoutMs: number) {
    return new Promise<Attempt>((resolve) => {
      let req: ClientRequest;
      try {
        req = this.request({ ...this.target, headers, agent }, (res) => readAnswer(res, resolve));
      } catch (error) {
        resolve({ ok: false, error: error as Error, retryable: false });
        return;
      }
      req.setTimeout(Math.max(1, timeoutMs), () => {
        const error = Object.assign(new Error('OTLP export timed out'), { code: 'ETIMEDOUT' });
        resolve({ ok: false, error, retryable: true });
        req.destroy(error);
      });
      req.on('error', (error) => resolve({ ok: false, error, retryable: isRetryableError(error) }));
      req.end(payload);
    });
  }
}

function readAnswer(res: IncomingMessage, resolve: (attempt: Attempt) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      resolve({ ok: false, error: new Error(`OTLP answer over ${MAX_ANSWER_BYTES} bytes`), retryable: false });
      res.destroy();
      return;
    }
    chunks.push(chunk);
  });
  res.on('error', (error) => resolve({ ok: false, error, retryable: isRetryableError(error) }));
  res.on('end', () => {
    const status = res.statusCode ?? 0;
    const body = Buffer.concat(chunks);
    if (status >= 200 && status <= 299) return resolve({ ok: true, body });
    const error = Object.assign(new Error(`OTLP export failed: HTTP ${status} ${res.statusMessage ?? ''}`.trim()), {
      code: status,
      data: body.toString(),
    });
    const retryAfter = retryAfterMs(res.headers['retry-after']);
    resolve({ ok: false, error, retryable: isRetryableStatus(status), retryAfter });
  });
}
