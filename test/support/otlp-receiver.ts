import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync, inflateSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { SpanSink, type AttributeValue, type ReceivedSpan } from './received-span.js';

const root = protobuf.loadSync(fileURLToPath(new URL('./otlp/trace_service.proto', import.meta.url)));
export const ExportRequest = root.lookupType('otlp.test.ExportTraceServiceRequest');
export const ExportResponse = root.lookupType('otlp.test.ExportTraceServiceResponse');

/** 'ok': 200 + empty response; 'error500': 500 (not retryable for OTLP); 'hang': never answer. */
export type OtlpReceiverMode = 'ok' | 'error500' | 'hang';

export class OtlpReceiver extends SpanSink {
  /** Every request that reached the server, whatever the mode. Spans are only kept when answered 'ok'. */
  requests = 0;
  port = 0;
  private readonly server: Server = createServer((req, res) => {
    this.requests++;
    this.notify();
    // Mode is read at arrival so setMode() during a request does not change its fate.
    const mode = this.mode;
    readBody(req).then(
      (body) => {
        if (mode === 'hang') return; // close() destroys the socket
        if (mode === 'error500') return void res.writeHead(500).end('error500 mode');
        if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/traces') return void res.writeHead(404).end();
        const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
        try {
          if (type === 'application/x-protobuf') {
            const decoded = ExportRequest.toObject(ExportRequest.decode(body), { longs: String });
            this.addSpans(toReceivedSpans(decoded as OtlpRequest));
            res.writeHead(200, { 'content-type': type }).end(ExportResponse.encode({}).finish());
          } else if (type === 'application/json') {
            this.addSpans(toReceivedSpans(JSON.parse(body.toString('utf8')) as OtlpRequest));
            res.writeHead(200, { 'content-type': type }).end('{}');
          } else {
            res.writeHead(415).end(`unsupported content-type ${type}`);
          }
        } catch (err) {
          this.addError(`OTLP ${type}: ${String(err)}`);
          res.writeHead(400).end(String(err));
        }
      },
      (err: unknown) => this.addError(`OTLP request body: ${String(err)}`),
    );
  });

  constructor(private mode: OtlpReceiverMode) {
    super();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  setMode(mode: OtlpReceiverMode): void {
    this.mode = mode;
  }

  waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    return this.waitUntil(
      () => this.requests >= count,
      timeoutMs,
      () => `expected ${count} request(s) within ${timeoutMs} ms, received ${this.requests}`,
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

export function startOtlpReceiver(opts: { mode?: OtlpReceiverMode } = {}): Promise<OtlpReceiver> {
  return new OtlpReceiver(opts.mode ?? 'ok').start();
}

// ---- HTTP plumbing, shared with jaeger-receiver.ts ----

export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Also destroys keep-alive and hanging sockets; otherwise close() waits for them and jest never exits. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) =>
      err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING' ? reject(err) : resolve(),
    );
    server.closeAllConnections();
  });
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const encoding = req.headers['content-encoding'];
  if (encoding === 'gzip') return gunzipSync(raw);
  if (encoding === 'deflate') return inflateSync(raw);
  return raw;
}

// ---- OTLP -> ReceivedSpan. Accepts protobufjs toObject output and OTLP/JSON alike (both camelCase). ----

/** int64/fixed64: string from toObject({longs: String}) or JSON, number from lax JSON, Long bits just in case. */
type LongLike = string | number | { low: number; high: number };
/** bytes: Buffer from protobuf; hex string in OTLP/JSON (ids are hex there, not base64). */
type Bytes = Uint8Array | string;

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: LongLike;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: Bytes;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId?: Bytes;
  spanId?: Bytes;
  parentSpanId?: Bytes;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: LongLike;
  endTimeUnixNano?: LongLike;
  attributes?: OtlpKeyValue[];
  events?: Array<{ name?: string; attributes?: OtlpKeyValue[] }>;
  status?: { code?: number | string; message?: string };
}
export interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS_CODES = ['UNSET', 'OK', 'ERROR'] as const;

export function toReceivedSpans(req: OtlpRequest): ReceivedSpan[] {
  return (req.resourceSpans ?? []).flatMap((rs) => {
    const resource = keyValues(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s) => toReceivedSpan(s, resource)));
  });
}

function toReceivedSpan(s: OtlpSpan, resource: Record<string, unknown>): ReceivedSpan {
  const start = toBigInt(s.startTimeUnixNano);
  const kind = enumName(s.kind, KINDS, 'SPAN_KIND_');
  const code = enumName(s.status?.code, STATUS_CODES, 'STATUS_CODE_') ?? 'UNSET';
  const parentSpanId = hex(s.parentSpanId);
  return {
    traceId: hex(s.traceId),
    spanId: hex(s.spanId),
    ...(parentSpanId ? { parentSpanId } : {}),
    name: s.name ?? '',
    ...(kind && kind !== 'UNSPECIFIED' ? { kind } : {}),
    startTimeUs: Number(start / 1000n),
    durationUs: Number((toBigInt(s.endTimeUnixNano) - start) / 1000n),
    // SDK span attributes are primitives or homogeneous primitive arrays, never kvlists.
    attributes: keyValues(s.attributes) as Record<string, AttributeValue>,
    status: {
      code: code as ReceivedSpan['status']['code'],
      ...(s.status?.message ? { message: s.status.message } : {}),
    },
    events: (s.events ?? []).map((e) => ({ name: e.name ?? '', attributes: keyValues(e.attributes) })),
    resource,
  };
}

function keyValues(kvs: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

function anyValue(v: OtlpAnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(toBigInt(v.intValue));
  if (v.doubleValue !== undefined) return Number(v.doubleValue); // JSON spells NaN/Infinity as strings
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) return keyValues(v.kvlistValue.values);
  if (v.bytesValue !== undefined) {
    return typeof v.bytesValue === 'string' ? v.bytesValue : Buffer.from(v.bytesValue).toString('base64');
  }
  return undefined;
}

function enumName(v: number | string | undefined, names: readonly string[], prefix: string): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? names[v] : v.replace(prefix, '');
}

function hex(id: Bytes | undefined): string {
  if (id === undefined) return '';
  return typeof id === 'string' ? id.toLowerCase() : Buffer.from(id).toString('hex');
}

function toBigInt(v: LongLike | undefined): bigint {
  if (v === undefined) return 0n;
  if (typeof v === 'object') return BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0));
  return BigInt(typeof v === 'number' ? Math.round(v) : v);
}
