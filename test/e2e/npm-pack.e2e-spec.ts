import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startJaegerHttpReceiver, startJaegerUdpReceiver } from '../support/jaeger-receiver.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import type { ReceivedSpan, SpanSink } from '../support/received-span.js';

/*
 * The package as users get it: `npm pack`, installed into a fresh Nest 12 app that
 * knows nothing but the public API, type-checked against the shipped declarations,
 * run as its own process on Express and Fastify, exporting over every wire format.
 */
const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = join(repo, 'test/fixtures/consumer-app');
const SETUP_MS = 180_000;
const RUN_MS = 30_000;

let appDir: string;

beforeAll(async () => {
  appDir = await mkdtemp(join(tmpdir(), 'nestjs-tracing-consumer-'));
  await run('npm', ['pack', '--pack-destination', appDir], { cwd: repo });
  const tarball = (await readdir(appDir)).find((f) => f.endsWith('.tgz'))!;
  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      `./${tarball}`,
      '@nestjs/common@12',
      '@nestjs/core@12',
      '@nestjs/platform-express@12',
      '@nestjs/platform-fastify@12',
      'reflect-metadata',
      'rxjs',
      '@types/node@20',
      '@opentelemetry/exporter-jaeger@2.11.0',
    ],
    { cwd: appDir },
  );
  await cp(join(fixture, 'main.ts'), join(appDir, 'main.ts'));
  await cp(join(fixture, 'tsconfig.json'), join(appDir, 'tsconfig.json'));
  await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', appDir]).catch(
    (error: { stdout?: string }) => {
      throw new Error(`the consumer app does not type-check against the packed declarations:\n${error.stdout}`);
    },
  );
}, SETUP_MS);
afterAll(() => rm(appDir, { recursive: true, force: true }));

type Receiver = SpanSink & { close(): Promise<void> };
const wires: Array<[string, () => Promise<{ receiver: Receiver; env: Record<string, string> }>]> = [
  [
    'otlp',
    async () => {
      const r = await startOtlpReceiver();
      return { receiver: r, env: { OTLP_URL: r.url } };
    },
  ],
  [
    'jaeger-http',
    async () => {
      const r = await startJaegerHttpReceiver();
      return { receiver: r, env: { JAEGER_ENDPOINT: r.endpoint } };
    },
  ],
  [
    'jaeger-udp',
    async () => {
      const r = await startJaegerUdpReceiver();
      return { receiver: r, env: { JAEGER_PORT: String(r.port) } };
    },
  ],
];
const cases = ['express', 'fastify'].flatMap((platform) =>
  wires.map(([wire, start], i) => ({ platform, wire, start, async: i % 2 === 1 })),
);

describe.each(cases)(
  'installed package on $platform exporting over $wire (forRootAsync: $async)',
  ({ platform, wire, start, async }) => {
    it(
      'traces requests, keeps guards and @HttpCode working, and loses no span on shutdown',
      async () => {
        const { receiver, env } = await start();
        const child = spawn(process.execPath, [join(appDir, 'dist/main.js')], {
          cwd: appDir,
          env: { ...process.env, ...env, PLATFORM: platform, EXPORTER: wire, ...(async ? { ASYNC: '1' } : {}) },
          // its log holds the stack of the failure /items/fail provokes: shown only if the test fails
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let log = '';
        child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
        try {
          const base = `http://127.0.0.1:${await announcedPort(child)}`;
          const get = (path: string, headers: Record<string, string> = {}) =>
            fetch(base + path, { headers }).then((r) => r.status);
          expect(await get('/items/7')).toBe(200);
          expect(await get('/items/admin')).toBe(403);
          expect(await get('/items/admin', { 'x-role': 'admin' })).toBe(203);
          expect(await get('/items/fail')).toBe(500);
          child.kill('SIGTERM');
          // enableShutdownHooks closes the app, then re-raises the signal
          expect(await exited(child)).toEqual({ code: null, signal: 'SIGTERM' });

          const spans = await receiver.waitForSpans(7);
          const one = (name: string, extra: (s: ReceivedSpan) => boolean = () => true) => {
            const found = spans.filter((s) => s.name === name && extra(s));
            expect(found).toHaveLength(1);
            return found[0]!;
          };
          const serverFind = one('GET /items/:id');
          const find = one('ItemsService.find');
          expect(serverFind.kind).toBe('SERVER');
          expect(serverFind.resource['service.name']).toBe('consumer');
          expect(serverFind.attributes['http.response.status_code']).toBe(200);
          expect(find.parentSpanId).toBe(serverFind.spanId);
          expect(find.traceId).toBe(serverFind.traceId);
          expect(find.attributes['item.id']).toBe(7);
          expect(find.attributes['item.found']).toBe(true);
          expect(find.durationUs).toBeGreaterThanOrEqual(4000);
          const admins = spans.filter((s) => s.name === 'GET /items/admin');
          expect(admins.map((s) => s.attributes['http.response.status_code']).sort()).toEqual([203, 403]);
          expect(one('ItemsController.admin').parentSpanId).toBe(
            admins.find((s) => s.attributes['http.response.status_code'] === 203)?.spanId,
          );
          const failed = one('ItemsService.fail');
          expect(failed.status.code).toBe('ERROR');
          expect(failed.events[0]?.attributes['exception.message']).toBe('consumer failure');
          expect(one('GET /items/fail').status.code).toBe('ERROR');
          expect(spans).toHaveLength(7);
        } catch (error) {
          throw new Error(`${error instanceof Error ? error.message : String(error)}\nconsumer app stderr:\n${log}`, {
            cause: error,
          });
        } finally {
          child.kill('SIGKILL');
          await receiver.close();
        }
      },
      RUN_MS,
    );
  },
);

function announcedPort(child: ChildProcess): Promise<number> {
  return new Promise((done, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) done(Number(match[1]));
    });
    child.once('exit', (code) => fail(new Error(`consumer app exited with ${code}: ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
}
