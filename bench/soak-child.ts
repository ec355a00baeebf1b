/**
 * The two processes bench/soak.ts runs beside the app it measures, so that their memory is
 * not counted in the app's RSS:
 *
 *   node dist/bench/soak-child.js collector   an OTLP endpoint on one port whose behaviour
 *                                             the parent switches: 'refuse' (nothing listens:
 *                                             ECONNREFUSED), 'hang' (accepts, reads, never
 *                                             answers) or 'ok' (answers 200, counts spans)
 *   node dist/bench/soak-child.js load        HTTP load at a fixed rate, with latencies
 *
 * Both talk to the parent over IPC and exit when it goes away. Loopback only.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { countSpans } from './otlp-sink.js';

export type CollectorMode = 'refuse' | 'hang' | 'ok';

export type ToCollector = { type: 'mode'; mode: CollectorMode } | { type: 'stats' };
export type FromCollector =
  | { type: 'ready'; port: number }
  | { type: 'mode'; mode: CollectorMode }
  | { type: 'stats'; spans: number; requests: number; hanging: number };

export interface LoadConfig {
  url: string;
  /** Requests per second. */
  rate: number;
  /** Most requests under way at once; beyond it a tick's requests are counted as skipped. */
  connections: number;
}
export type ToLoad = { type: 'start'; config: LoadConfig } | { type: 'window' } | { type: 'stop' };
export interface LoadWindow {
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
  p50: number;
  p99: number;
  max: number;
}
export type FromLoad = { type: 'ready' } | { type: 'window'; window: LoadWindow } | { type: 'stopped' };

const send = (message: FromCollector | FromLoad): void => void process.send?.(message);

// ---- collector ----

async function collector(): Promise<void> {
  let mode: CollectorMode = 'refuse';
  let spans = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (mode === 'hang') return; // keep the socket open, answer nothing
      const counted = countSpans(Buffer.concat(chunks));
      if (counted > 0) spans += counted;
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  // Reserve a port, then let it go: 'refuse' is that port with nothing listening.
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  await stop();

  const setMode = async (next: CollectorMode): Promise<void> => {
    if (server.listening && next === 'refuse') await stop();
    // hanging requests are dropped when the collector "comes back": a restarted process would lose them too
    if (mode === 'hang' && next === 'ok') for (const socket of sockets) socket.destroy();
    mode = next;
    if (next !== 'refuse' && !server.listening)
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  };

  process.on('message', (message: ToCollector) => {
    if (message.type === 'mode') void setMode(message.mode).then(() => send({ type: 'mode', mode: message.mode }));
    else send({ type: 'stats', spans, requests, hanging: mode === 'hang' ? sockets.size : 0 });
  });
  send({ type: 'ready', port });
}

// ---- load ----

function load(): void {
  let timer: NodeJS.Timeout | undefined;
  let agent: http.Agent | undefined;
  let inFlight = 0;
  let window: { sent: number; ok: number; failed: number; skipped: number; latencies: number[] } = fresh();
  function fresh() {
    return { sent: 0, ok: 0, failed: 0, skipped: 0, latencies: [] as number[] };
  }

  const start = (config: LoadConfig): void => {
    agent = new http.Agent({ keepAlive: true, maxSockets: config.connections });
    const target = new URL(config.url);
    const tickMs = 10;
    let due = 0;
    let n = 0;
    timer = setInterval(() => {
      due += (config.rate * tickMs) / 1000;
      while (due >= 1) {
        due--;
        if (inFlight >= config.connections) {
          window.skipped++;
          continue;
        }
        inFlight++;
        window.sent++;
        const began = performance.now();
        const req = http.get(
          { host: target.hostname, port: target.port, path: `${target.pathname}${n++ % 1000}`, agent },
          (res) => {
            res.resume();
            res.on('end', () => {
              inFlight--;
              window.latencies.push(performance.now() - began);
              if (res.statusCode === 200) window.ok++;
              else window.failed++;
            });
          },
        );
        req.on('error', () => {
          inFlight--;
          window.failed++;
        });
      }
    }, tickMs);
  };

  process.on('message', (message: ToLoad) => {
    if (message.type === 'start') start(message.config);
    else if (message.type === 'window') {
      const { latencies, ...counts } = window;
      window = fresh();
      latencies.sort((a, b) => a - b);
      const at = (q: number): number =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
      send({
        type: 'window',
        window: { ...counts, p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] ?? 0 },
      });
    } else {
      clearInterval(timer);
      agent?.destroy();
      send({ type: 'stopped' });
    }
  });
  send({ type: 'ready' });
}

process.on('disconnect', () => process.exit(0));
const role = process.argv[2];
if (role === 'collector') await collector();
else if (role === 'load') load();
else {
  console.error('usage: soak-child.js collector|load (started by soak.js)');
  process.exit(2);
}
