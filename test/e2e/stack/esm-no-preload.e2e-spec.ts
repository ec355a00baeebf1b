import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * Outside Jest, in plain Node: an ESM Nest 12 app (this repo's sources, compiled) that imports
 * pg before TracingModule exists, started with no --import. Its pg queries get spans from
 * `instrumentations: [new PgInstrumentation()]`, and the patch is gone once the app closes.
 */
const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
let outDir: string;

beforeAll(async () => {
  // inside the repo, so the compiled app resolves the repo's node_modules
  outDir = await mkdtemp(join(repo, 'node_modules/.cache-esm-pg-'));
  await run(process.execPath, [
    join(repo, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(repo, 'test/fixtures/esm-pg-app'),
    '--outDir',
    outDir,
  ]);
}, 120_000);
afterAll(() => rm(outDir, { recursive: true, force: true }));

it('traces pg queries of an ESM app started without a preload', async () => {
  const { stdout } = await run(process.execPath, [join(outDir, 'test/fixtures/esm-pg-app/main.js')], { cwd: outDir });
  const { spans, patchedAfterClose } = JSON.parse(stdout.trim().split('\n').pop()!) as {
    spans: Array<{ name: string; kind: number; spanId: string; parent?: string; text?: string }>;
    patchedAfterClose: boolean;
  };
  const find = spans.find((s) => s.name === 'ItemsService.find')!;
  const query = spans.find((s) => s.name.startsWith('pg.query:SELECT'));
  expect(query).toMatchObject({ kind: 2, parent: find.spanId, text: 'SELECT $1::int AS id' });
  expect(patchedAfterClose).toBe(false);
}, 30_000);
