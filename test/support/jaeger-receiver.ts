import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { closeServer, listen, readBody } from './otlp-receiver.js';
import { SpanSink, type AttributeValue, type ReceivedSpan } from './received-span.js';

const require = createRequire(import.meta.url);
const { Thrift } = require('thriftrw') as { Thrift: new (opts: object) => any };
const idlDir = join(dirname(require.resolve('jaeger-client/package.json')), 'dist/src');
// Collector (HTTP) gets a bare Batch; the agent (UDP) gets an Agent.emitBatch message envelope.
// thriftrw resolves agent.thrift's `include "../jaeger-idl/..."` relative to the including file,
// which needs allowFilesystemAccess.
const jaegerThrift = new Thrift({
  entryPoint: join(idlDir, 'jaeger-idl/thrift/jaeger.thrift'),
  allowFilesystemAccess: true,
});
const agentThrift = new Thrift({ entryPoint: join(idlDir, 'thriftrw-idl/agent.thrift'), allowFilesystemAccess: true });

export class JaegerHttpReceiver extends SpanSink {
  port = 0;
  private readonly server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        if (req.method !== 'POST' || req.url?.split('?')[0] !== '/api/traces') return void res.writeHead(404).end();
        try {
          this.addSpans(fromBatch(jaegerThrift.Batch.fromBuffer(body) as ThriftBatch));
          res.writeHead(202).end(); // what jaeger-collector answers
        } catch (err) {
          this.addError(`Jaeger HTTP: ${String(err)}`);
          res.writeHead(400).end(String(err));
        }
      },
      (err: unknown) => this.addError(`Jaeger HTTP body: ${String(err)}`),
    );
  });

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}/api/traces`;
  }

  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}

export class JaegerUdpReceiver extends SpanSink {
  readonly host = '127.0.0.1';
  port = 0;
  private readonly socket = createSocket('udp4', (msg) => {
    const result = agentThrift.Agent.emitBatch.argumentsMessageRW.readFrom(msg, 0);
    if (result.err) return this.addError(`Jaeger UDP: ${String(result.err)}`);
    this.addSpans(fromBatch(result.value.body.batch as ThriftBatch));
  });

  constructor() {
    super();
    // Without a listener a late socket error would crash the jest worker.
    this.socket.on('error', (err) => this.addError(`Jaeger UDP socket: ${String(err)}`));
  }

  start(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(0, this.host, () => {
        this.port = (this.socket.address() as AddressInfo).port;
        resolve(this);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}

export function startJaegerHttpReceiver(): Promise<JaegerHttpReceiver> {
  return new JaegerHttpReceiver().start();
}

export function startJaegerUdpReceiver(): Promise<JaegerUdpReceiver> {
  return new JaegerUdpReceiver().start();
}

// ---- thrift -> ReceivedSpan ----

/** thriftrw decodes i64 as an 8-byte big-endian Buffer and enums as their names. */
interface ThriftTag {
  key: string;
  vType: 'STRING' | 'DOUBLE' | 'BOOL' | 'LONG' | 'BINARY';
  vStr: string | null;
  vDouble: number | null;
  vBool: boolean | null;
  vLong: Buffer | null;
  vBinary: Buffer | null;
}
interface ThriftSpan {
  traceIdLow: Buffer;
  traceIdHigh: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer;
  operationName: string;
  startTime: Buffer;
  duration: Buffer;
  tags: ThriftTag[] | null;
  logs: Array<{ timestamp: Buffer; fields: ThriftTag[] }> | null;
}
interface ThriftBatch {
  process: { serviceName: string; tags: ThriftTag[] | null };
  spans: ThriftSpan[];
}

function fromBatch(batch: ThriftBatch): ReceivedSpan[] {
  const resource: Record<string, unknown> = {
    ...tagMap(batch.process.tags),
    'service.name': batch.process.serviceName,
  };
  return batch.spans.map((s) => fromSpan(s, resource));
}

/**
 * The OTel Jaeger exporter encodes kind and status as tags; they are lifted into `kind`/`status`
 * and removed from attributes, as is the redundant `error` tag (it only mirrors status ERROR).
 * Everything else stays, including tags the exporter adds itself (otel.library.*) and the
 * resource attributes it copies onto every span.
 */
function fromSpan(s: ThriftSpan, resource: Record<string, unknown>): ReceivedSpan {
  const {
    'span.kind': kind,
    'otel.status_code': code,
    'otel.status_description': message,
    error: _error,
    ...attributes
  } = tagMap(s.tags);
  const parent = s.parentSpanId.toString('hex');
  return {
    traceId: s.traceIdHigh.toString('hex') + s.traceIdLow.toString('hex'),
    spanId: s.spanId.toString('hex'),
    ...(/^0+$/.test(parent) ? {} : { parentSpanId: parent }),
    name: s.operationName,
    ...(typeof kind === 'string' ? { kind: kind.toUpperCase() } : {}),
    startTimeUs: Number(s.startTime.readBigInt64BE()),
    durationUs: Number(s.duration.readBigInt64BE()),
    attributes,
    status: {
      code: code === 'OK' || code === 'ERROR' ? code : 'UNSET',
      ...(typeof message === 'string' ? { message } : {}),
    },
    events: (s.logs ?? []).map((log) => {
      const { event, ...fields } = tagMap(log.fields);
      return { name: String(event ?? ''), attributes: fields };
    }),
    resource,
  };
}

function tagMap(tags: ThriftTag[] | null): Record<string, AttributeValue> {
  return Object.fromEntries((tags ?? []).map((t) => [t.key, tagValue(t)]));
}

function tagValue(t: ThriftTag): AttributeValue {
  switch (t.vType) {
    case 'DOUBLE':
      return t.vDouble ?? 0;
    case 'BOOL':
      return t.vBool ?? false;
    case 'LONG':
      return t.vLong ? Number(t.vLong.readBigInt64BE()) : 0;
    case 'BINARY':
      return t.vBinary ? t.vBinary.toString('base64') : '';
    default:
      return t.vStr ?? '';
  }
}
