import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * The Nest 11 CommonJS consumer app of test/fixtures/consumer-app-nest11: the package packed
 * from a build of its own (never the repo's dist/, which another packing test rebuilds),
 * installed from the npm registry beside the Nest 11 line of every package the fixture uses,
 * compiled with `module: commonjs`, each script run as its own process.
 */
export const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = join(repo, 'test/fixtures/consumer-app-nest11');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
const SCRIPTS = ['main.ts', 'testing.ts', 'entry-points.ts'];

/** What a Nest 11 app has: the core, pg for main.ts, and the Nest 11 line of each entry point's package. */
const NEST11_PACKAGES = [
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
  '@nestjs/websockets@11',
  '@nestjs/platform-socket.io@11',
  '@nestjs/platform-ws@11',
  '@nestjs/event-emitter@3',
  '@nestjs/schedule@6',
  '@nestjs/graphql@13',
  '@nestjs/apollo@13',
  '@apollo/server@5',
  '@as-integrations/express5@1',
  'graphql@16',
  '@nestjs/bullmq@11',
  'bullmq@5',
];

export const npmInstall = (appDir: string, packages: string[], flags: string[] = []) =>
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...flags, ...packages], { cwd: appDir });

/** Packs the package, installs it in a fresh app directory with NEST11_PACKAGES, and compiles the fixture there. */
export async function installNest11App(): Promise<string> {
  const appDir = await mkdtemp(join(tmpdir(), 'nestjs-tracing-nest11-'));
  const pkgDir = join(appDir, 'package');
  await run(process.execPath, [tsc, '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(pkgDir, 'dist')]);
  for (const file of ['package.json', 'README.md', 'LICENSE']) await cp(join(repo, file), join(pkgDir, file));
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', appDir], { cwd: pkgDir });
  const tarball = (await readdir(appDir)).find((f) => f.endsWith('.tgz'))!;
  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'consumer11', private: true }));
  // the peer ranges must let npm install the package beside all of these (no --legacy-peer-deps)
  await npmInstall(appDir, [`./${tarball}`, ...NEST11_PACKAGES]);
  for (const file of [...SCRIPTS, 'tsconfig.json']) await cp(join(fixture, file), join(appDir, file));
  await run(process.execPath, [tsc, '-p', appDir]).catch((error: { stdout?: string }) => {
    throw new Error(`the Nest 11 app does not type-check against the packed declarations:\n${error.stdout}`);
  });
  return appDir;
}

export interface RunningApp {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  out: () => string;
}

export function start(appDir: string, script: string, env: Record<string, string> = {}): RunningApp {
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

export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Resolves with `read()` once it is defined, re-read on every line the app prints; rejects if the app exits first. */
export function until<T>({ child }: RunningApp, read: () => T | undefined, what: () => string): Promise<T> {
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

/** The port the app prints as `{"listening": port}` once it listens. */
export const listening = (app: RunningApp): Promise<number> =>
  until(
    app,
    () => jsonLines(app.out()).find((r) => typeof r.listening === 'number')?.listening as number | undefined,
    () => `listening; output:\n${app.out()}`,
  );

/** Runs `body`, adding the app's output to the error it throws. */
export async function withOutput<T>(app: RunningApp, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nNest 11 app output:\n${app.out()}`, {
      cause: error,
    });
  }
}
