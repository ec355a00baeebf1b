import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startOtlpReceiver } from '../../support/otlp-receiver.js';
import { freePort } from '../../support/ports.js';

/*
 * The package in a Nest 11 app compiled to CommonJS, as most Nest 11 apps are: `npm pack`,
 * installed beside Nest 11 (the peer ranges must allow it), type-checked against the shipped
 * declarations (`nestjs-tracing/testing` included), require()d as an ES module, run as its own
 * process: request spans, pg query spans through the instrumentations option with no preload,
 * TracingLogger's json lines, a TCP microservice call, and the testing module.
 */
const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = join(repo, 'test/fixtures/consumer-app-nest11');
let appDir: string;

beforeAll(async () => {
  appDir = await mkdtemp(join(tmpdir(), 'nestjs-tracing-nest11-'));
  // packed from a build of its own, so the repo's dist/ (which another packing test rebuilds) is never read
  const pkgDir = join(appDir, 'package');
  const tsc = join(repo, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(pkgDir, 'dist')]);
  for (const file of ['package.json', 'README.md', 'LICENSE']) await cp(join(repo, file), join(pkgDir, file));
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', appDir], { cwd: pkgDir });
  const tarball = (await readdir(appDir)).find((f) => f.endsWith('.tgz'))!;
  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'consumer11', private: true }));
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      `./${tarball}`,
      '@nestjs/common@11',
      '@nestjs/core@11',
      '@nestjs/platform-express@11',
      '@nestjs/testing@11',
      '@nestjs/microservices@11',
      'reflect-metadata',
      'rxjs',
      '@types/node@20',
      'pg@8',
      '@types/pg@8',
      '@opentelemetry/instrumentation-pg@0.74.0',
    ],
    { cwd: appDir },
  );
  for (const file of ['main.ts', 'testing.ts', 'tsconfig.json']) await cp(join(fixture, file), join(appDir, file));
  await run(process.execPath, [tsc, '-p', appDir]).catch((error: { stdout?: string }) => {
    throw new Error(`the Nest 11 app does not type-check against the packed declarations:\n${error.stdout}`);
  });
}, 240_000);
afterAll(() => rm(appDir, { recursive: true, force: true }));

function start(script: string, env: Record<string, string> = {}): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [join(appDir, 'dist', script)], {
    cwd: appDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { child, out: () => out };
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

function until<T>(child: ChildProcess, read: () => T | undefined, what: () => string): Promise<T> {
  return new Promise((done, fail) => {
    const check = () => {
      const value = read();
      if (value !== undefined) {
        child.stdout?.off('data', check);
        done(value);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => fail(new Error(`exited with ${code} before ${what()}`)));
    check();
  });
}

describe('installed package in a Nest 11 CommonJS app', () => {
  it('traces requests, pg queries and TCP calls, and TracingLogger carries the trace ids', async () => {
    const receiver = await startOtlpReceiver();
    const { child, out } = start('main.js', { OTLP_URL: receiver.url, TCP_PORT: String(await freePort()) });
    try {
      const port = await until(
        child,
        () => jsonLines(out()).find((r) => typeof r.listening === 'number')?.listening as number | undefined,
        () => `listening; output:\n${out()}`,
      );
      expect(await fetch(`http://127.0.0.1:${port}/items/7`).then((r) => r.json())).toEqual({ id: 7 });
      expect(await fetch(`http://127.0.0.1:${port}/items/7/price`).then((r) => r.json())).toEqual({ price: 70 });
      child.kill('SIGTERM');
      const spans = await receiver.waitForSpans(6);
      const server = spans.find((s) => s.name === 'GET /items/:id')!;
      const find = spans.find((s) => s.name === 'ItemsService.find')!;
      const query = spans.find((s) => s.name.startsWith('pg.query:SELECT'))!;
      // automatic spans on Nest 11 too: the route handler between the server span and the service
      const handler = spans.find((s) => s.name === 'ItemsController.find')!;
      expect(server.resource['service.name']).toBe('consumer11');
      expect([handler.parentSpanId, handler.attributes['nestjs.type']]).toEqual([server.spanId, 'handler']);
      expect(find.parentSpanId).toBe(handler.spanId);
      expect([query.parentSpanId, query.traceId, query.kind]).toEqual([find.spanId, server.traceId, 'CLIENT']);
      expect(query.attributes['db.query.text']).toBe('SELECT $1::int AS id');
      // TCP on Nest 11: both sides traced, but its packets carry no metadata, so the server starts a new trace
      const priced = spans.find((s) => s.name === 'GET /items/:id/price')!;
      const sent = spans.find((s) => s.name === 'send price')!;
      const processed = spans.find((s) => s.name === 'process price')!;
      const pricedHandler = spans.find((s) => s.name === 'ItemsController.price')!;
      expect(pricedHandler.parentSpanId).toBe(priced.spanId);
      expect([sent.kind, sent.parentSpanId, sent.traceId]).toEqual(['CLIENT', pricedHandler.spanId, priced.traceId]);
      expect([processed.kind, processed.parentSpanId]).toEqual(['SERVER', undefined]);
      expect(processed.traceId).not.toBe(sent.traceId);
      const logged = jsonLines(out()).find((r) => r.message === 'found item');
      expect(logged).toMatchObject({
        context: 'Items',
        trace_id: server.traceId,
        span_id: find.spanId,
        trace_flags: '01',
      });
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\nNest 11 app output:\n${out()}`, {
        cause: error,
      });
    } finally {
      child.kill('SIGKILL');
      await receiver.close();
    }
  }, 30_000);

  it('records spans with TracingTestingModule and @nestjs/testing 11', async () => {
    const { child, out } = start('testing.js');
    const result = await until(
      child,
      () => jsonLines(out()).find((r) => Array.isArray(r.children)) as { children: string[]; tree: string } | undefined,
      () => `the recorder's answer; output:\n${out()}`,
    );
    expect(result.children).toEqual(['pong']);
    expect(result.tree).toMatch(/GET \/ping[\s\S]*pong/);
  }, 30_000);
});
