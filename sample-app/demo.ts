import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { watchStock } from './live-traffic.js';
import { traffic, type Call } from './traffic.js';

/*
 * `npm run demo`: starts the gateway, inventory and pricing services as three processes
 * on free ports, sends a burst of requests through every route and one WebSocket message,
 * stops them (each flushes its spans into one shared trace file), then prints every trace
 * as a waterfall.
 */
const here = dirname(fileURLToPath(import.meta.url));
const traceFile = resolve(process.env.TRACE_FILE ?? 'traces/jaeger-demo.json');
// a cold embedded PostgreSQL (inventory) takes ~5 s of CPU on its first start on a machine
const START_TIMEOUT_MS = 60_000;

interface Service {
  name: string;
  url: string;
  process: ChildProcess;
}

async function main(): Promise<void> {
  await rm(traceFile, { force: true });
  const started: Service[] = [];
  try {
    const inventory = await start('inventory', { TRACE_FILE: traceFile }, started);
    const pricing = await start('pricing', { TRACE_FILE: traceFile }, started);
    const gateway = await start(
      'gateway',
      { TRACE_FILE: traceFile, INVENTORY_URL: inventory.url, PRICING_PORT: new URL(pricing.url).port },
      started,
    );
    console.log(
      `gateway ${gateway.url} → inventory ${inventory.url} (HTTP), pricing ${pricing.url} (Nest TCP transport)\n`,
    );
    await drive(gateway.url, traffic);
    await watchStock(gateway.url);
  } finally {
    for (const service of started.reverse()) await stop(service);
  }
  console.log('');
  const width = Math.min(process.stdout.columns ?? 100, 100);
  // the package's own bin, as `npx nestjs-tracing render` runs it, drawing straight to this terminal
  const render = spawn(process.execPath, [renderBin(), 'render', traceFile, '--width', String(width)], {
    stdio: 'inherit',
  });
  const [code] = (await once(render, 'exit')) as [number | null];
  if (code !== 0) throw new Error('could not render the trace file');
  const shown = relative(process.cwd(), traceFile) || traceFile;
  console.log(`\nTrace file: ${shown}`);
  console.log('See it in Jaeger: open the UI (http://localhost:16686) → Search → Upload JSON → choose that file.');
  console.log('Render it again any time: npx nestjs-tracing render ' + shown);
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT)
    console.log(`Also exported over OTLP to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}.`);
  if (process.env.JAEGER_ENDPOINT)
    console.log(`Also exported to the Jaeger collector at ${process.env.JAEGER_ENDPOINT}.`);
}

async function start(name: string, env: Record<string, string>, started: Service[]): Promise<Service> {
  const child = fork(join(here, name, 'main.js'), [], {
    env: { ...process.env, ...env, PORT: String(await freePort()) },
    // The services log the failures the demo provokes on purpose; shown only if a service dies.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const service: Service = { name, url: '', process: child };
  started.push(service);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') process.stderr.write(`\n${name} exited with code ${code}:\n${log}`);
  });
  service.url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    child.on('message', (message: { ready?: string; url?: string }) => {
      if (message.ready !== name || !message.url) return;
      clearTimeout(timer);
      done(message.url);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${name} exited with code ${code} before it started`));
    });
  });
  return service;
}

/** SIGTERM, as an orchestrator would: enableShutdownHooks closes the app and flushes its spans. */
function stop(service: Service): Promise<void> {
  return new Promise((done) => {
    if (service.process.exitCode !== null) return done();
    service.process.once('exit', () => done());
    service.process.kill('SIGTERM');
  });
}

async function drive(baseUrl: string, calls: Call[]): Promise<void> {
  for (const call of calls) {
    const started = performance.now();
    const res = await fetch(baseUrl + call.path, {
      method: call.method,
      headers: { 'content-type': 'application/json', ...call.headers },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
    });
    await res.arrayBuffer();
    const ms = (performance.now() - started).toFixed(1).padStart(6);
    console.log(`  ${res.status}  ${ms} ms  ${call.method.padEnd(4)} ${call.path.padEnd(28)} ${call.why}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** The `nestjs-tracing` bin of the package this demo imports (itself, by its own name). */
function renderBin(): string {
  const manifest = createRequire(import.meta.url).resolve('nestjs-tracing/package.json');
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
  return resolve(dirname(manifest), bin['nestjs-tracing']!);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
