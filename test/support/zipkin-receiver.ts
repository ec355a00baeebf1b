import { createServer } from 'node:http';
import { closeServer, listen, readBody } from './otlp-receiver.js';
import { SpanSink, type AttributeValue, type ReceivedSpan } from './received-span.js';

/** A span as Zipkin's v2 API takes it (POST /api/v2/spans, a JSON array). */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  timestamp: number;
  duration: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
  annotations?: Array<{ timestamp: number; value: string }>;
}

/** 'ok': 202 as Zipkin answers; 'error500'; 'hang': never answers. */
export type ZipkinReceiverMode = 'ok' | 'error500' | 'hang';

/**
 * Decodes what Zipkin's collector would: the v2 JSON list. `raw` keeps the spans as sent;
 * `spans` has them normalized like every other receiver (tags are strings on this wire).
 */
export class ZipkinReceiver extends SpanSink {
  readonly raw: ZipkinSpan[] = [];
  /** Headers of every request that reached the receiver, whatever the mode. */
  readonly requests: Array<Record<string, string | string[] | undefined>> = [];
  port = 0;
  private readonly server = createServer((req, res) => {
    this.requests.push(req.headers);
    this.notify();
    const mode = this.mode;
    readBody(req).then(
      (body) => {
        if (mode === 'hang') return;
        if (mode === 'error500') return void res.writeHead(500).end();
        if (req.method !== 'POST' || req.url !== '/api/v2/spans') return void res.writeHead(404).end();
        try {
          if (req.headers['content-type'] !== 'application/json')
            throw new Error(`content-type ${req.headers['content-type']}`);
          const spans = JSON.parse(body.toString('utf8')) as ZipkinSpan[];
          if (!Array.isArray(spans)) throw new Error('not a list of spans');
          this.raw.push(...spans);
          this.addSpans(spans.map(toReceivedSpan));
          res.writeHead(202).end();
        } catch (err) {
          this.addError(`Zipkin: ${String(err)}`);
          res.writeHead(400).end(String(err));
        }
      },
      (err: unknown) => this.addError(`Zipkin body: ${String(err)}`),
    );
  });

  /** Sockets the exporter holds open to this receiver right now. */
  openSockets = 0;

  constructor(private mode: ZipkinReceiverMode = 'ok') {
    super();
    this.server.on('connection', (socket) => {
      this.openSockets++;
      socket.once('close', () => {
        this.openSockets--;
        this.notify();
      });
    });
  }

  /** Resolves once the client has let go of every socket (a hanging answer included). */
  waitForNoSockets(timeoutMs = 5000): Promise<void> {
    return this.waitUntil(
      () => this.openSockets === 0,
      timeoutMs,
      () => `the client still holds ${this.openSockets} socket(s) after ${timeoutMs} ms`,
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/api/v2/spans`;
  }

  waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    return this.waitUntil(
      () => this.requests.length >= count,
      timeoutMs,
      () => `expected ${count} request(s), received ${this.requests.length}`,
    );
  }

  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}

export function startZipkinReceiver(mode?: ZipkinReceiverMode): Promise<ZipkinReceiver> {
  return new ZipkinReceiver(mode).start();
}

/** The exporter writes status as tags (`otel.status_code`, and `error` for the message); they become `status`. */
function toReceivedSpan(s: ZipkinSpan): ReceivedSpan {
  const { 'otel.status_code': code, error, ...tags } = s.tags ?? {};
  return {
    traceId: s.traceId,
    spanId: s.id,
    ...(s.parentId ? { parentSpanId: s.parentId } : {}),
    name: s.name ?? '',
    kind: s.kind ?? 'INTERNAL',
    startTimeUs: s.timestamp,
    durationUs: s.duration,
    attributes: tags as Record<string, AttributeValue>,
    status: {
      code: code === 'OK' || code === 'ERROR' ? code : 'UNSET',
      ...(error !== undefined ? { message: error } : {}),
    },
    events: (s.annotations ?? []).map((a) => ({ name: a.value, attributes: {} })),
    resource: { 'service.name': s.localEndpoint?.serviceName ?? '' },
  };
}
