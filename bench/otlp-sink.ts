/**
 * A local OTLP/HTTP trace receiver for benchmarks: it reads each request body, answers
 * 200 with an empty ExportTraceServiceResponse, and decodes nothing. It only walks the
 * protobuf framing (ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span) to
 * count spans, skipping every span's body by its length, so a run can prove that what
 * it measured was actually exported and nothing was dropped on the way.
 *
 * Run as a child with an IPC channel (the bench does this): it sends
 * `{ type: 'ready', port }` and answers `{ type: 'stats' }` and `{ type: 'reset' }`.
 * Run directly (`node dist/bench/otlp-sink.js [port]`) it prints its URL and serves until killed.
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';

export interface SinkStats {
  requests: number;
  bytes: number;
  spans: number;
  /** Bodies the walker could not frame (gzip or not protobuf): their spans are not counted. */
  uncounted: number;
}

export interface Sink {
  url: string;
  stats(): SinkStats;
  reset(): void;
  close(): Promise<void>;
}

export async function startSink(port = 0): Promise<Sink> {
  const stats: SinkStats = { requests: 0, bytes: 0, spans: 0, uncounted: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
    });
    req.on('end', () => {
      stats.requests++;
      stats.bytes += length;
      const protobuf = (req.headers['content-type'] ?? '').includes('protobuf');
      const encoded = req.headers['content-encoding'] !== undefined && req.headers['content-encoding'] !== 'identity';
      const counted =
        protobuf && !encoded ? countSpans(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)) : -1;
      if (counted < 0) stats.uncounted++;
      else stats.spans += counted;
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/v1/traces`,
    stats: () => ({ ...stats }),
    reset: () => {
      stats.requests = stats.bytes = stats.spans = stats.uncounted = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Number of spans in an ExportTraceServiceRequest, or -1 if the framing does not parse. */
export function countSpans(buf: Buffer): number {
  try {
    let spans = 0;
    forEachField(buf, 0, buf.length, (field, start, end) => {
      if (field !== 1) return; // resource_spans
      forEachField(buf, start, end, (f2, s2, e2) => {
        if (f2 !== 2) return; // scope_spans
        forEachField(buf, s2, e2, (f3) => {
          if (f3 === 2) spans++; // spans
        });
      });
    });
    return spans;
  } catch {
    return -1;
  }
}

/** Calls `visit` for every length-delimited field in buf[start, end); skips the others. */
function forEachField(
  buf: Buffer,
  start: number,
  end: number,
  visit: (field: number, start: number, end: number) => void,
): void {
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = varint(buf, pos);
    pos = afterTag;
    const wire = tag & 7;
    const field = tag >>> 3;
    if (wire === 0) pos = varint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, afterLen] = varint(buf, pos);
      const fieldEnd = afterLen + len;
      if (fieldEnd > end) throw new Error('truncated');
      visit(field, afterLen, fieldEnd);
      pos = fieldEnd;
    } else throw new Error(`wire type ${wire}`);
  }
  if (pos !== end) throw new Error('misaligned');
}

function varint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const byte = buf[pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
}

type SinkMessage = { type: 'stats' } | { type: 'reset' } | { type: 'stop' };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sink = await startSink(Number(process.argv[2] ?? 0));
  if (process.send) {
    process.send({ type: 'ready', url: sink.url });
    process.on('message', (message: SinkMessage) => {
      if (message.type === 'stats') process.send!({ type: 'stats', stats: sink.stats() });
      else if (message.type === 'reset') {
        sink.reset();
        process.send!({ type: 'reset' });
      } else if (message.type === 'stop') void sink.close().then(() => process.exit(0));
    });
    // never outlive the bench
    process.on('disconnect', () => process.exit(0));
  } else {
    console.log(`OTLP sink listening on ${sink.url}`);
  }
}
