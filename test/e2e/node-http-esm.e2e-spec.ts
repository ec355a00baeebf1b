import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * `import { request, get } from 'node:http'` binds the functions when the importing module
 * loads, before any app starts. Jest's module registry copies built-ins its own way, so this
 * runs where Node's ESM loader does the binding: a child process running the compiled library.
 */
const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SETUP_MS = 120_000;

const script = `
import 'reflect-metadata';
import { createServer, get, request } from 'node:http';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { TraceService, TracingModule } from './dist/index.js';

const before = request;
const received = [];
const downstream = createServer((req, res) => {
  received.push(req.headers.traceparent ?? null);
  res.end('ok');
});
await new Promise((done) => downstream.listen(0, '127.0.0.1', done));
const url = 'http://127.0.0.1:' + downstream.address().port + '/named';
const consume = (res, done) => res.resume().on('end', done);

const exporter = new InMemorySpanExporter();
class AppModule {}
Module({ imports: [TracingModule.forRoot({ serviceName: 'esm', exporter, autoTrace: false })] })(AppModule);
const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const wrapped = request !== before;
const tracing = app.get(TraceService);
await tracing.startActiveSpan('job', async (span) => {
  await new Promise((done) => get(url, (res) => consume(res, done)));
  await new Promise((done) => request(url, { method: 'POST' }, (res) => consume(res, done)).end());
  span.end();
});
await tracing.forceFlush();
const spans = exporter.getFinishedSpans().map((s) => ({
  name: s.name,
  kind: s.kind,
  traceId: s.spanContext().traceId,
  spanId: s.spanContext().spanId,
  parentId: s.parentSpanContext?.spanId ?? null,
}));
await app.close();
downstream.close();
console.log(JSON.stringify({ wrapped, restored: request === before, spans, received }));
`;

interface Result {
  wrapped: boolean;
  restored: boolean;
  spans: Array<{ name: string; kind: number; traceId: string; spanId: string; parentId: string | null }>;
  received: Array<string | null>;
}

describe('named ESM imports of node:http', () => {
  let dir: string;
  let result: Result;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tracing-esm-'));
    await run(process.execPath, [
      join(repo, 'node_modules/typescript/bin/tsc'),
      ...['-p', join(repo, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')],
      ...['--declaration', 'false', '--sourceMap', 'false'],
    ]);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await symlink(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
    await writeFile(join(dir, 'main.mjs'), script);
    const { stdout } = await run(process.execPath, [join(dir, 'main.mjs')], { cwd: dir, timeout: 60_000 });
    result = JSON.parse(stdout.trim().split('\n').pop()!) as Result;
  }, SETUP_MS);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('follow the wrapping (syncBuiltinESMExports), and are put back when the app closes', () => {
    expect(result.wrapped).toBe(true);
    expect(result.restored).toBe(true);
  });

  it('give get() and request() made through them a CLIENT span each, whose context the next service receives', () => {
    const job = result.spans.find((s) => s.name === 'job')!;
    const clients = result.spans.filter((s) => s.kind === 2);
    expect(clients.map((s) => s.name)).toEqual(['GET', 'POST']);
    for (const [i, client] of clients.entries()) {
      expect(client.parentId).toBe(job.spanId);
      expect(result.received[i]).toBe(`00-${client.traceId}-${client.spanId}-01`);
    }
  });
});
