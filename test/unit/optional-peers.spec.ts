import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOptional } from '../../lib/instrumentations/load-optional.js';

/*
 * The entry points' packages are optional peers: the library names none of them in an
 * import, so an app without them loads and runs it unchanged (the packed-app test runs
 * one with every switch on), and loads one only when the app has it.
 */
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OPTIONAL = [
  '@nestjs/websockets',
  '@nestjs/graphql',
  '@nestjs/event-emitter',
  '@nestjs/schedule',
  '@nestjs/bullmq',
];
const IMPORTED_ONLY_BY_NAME = [...OPTIONAL, 'socket.io', 'ws', 'graphql', 'bullmq', '@apollo/server', 'mercurius'];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat().filter((file) => file.endsWith('.ts'));
}

describe('optional peers', () => {
  it('are never imported by lib/, not even for types', async () => {
    const offending: string[] = [];
    for (const file of await sources(join(repo, 'lib'))) {
      const text = await readFile(file, 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        if (IMPORTED_ONLY_BY_NAME.some((name) => specifier === name || specifier?.startsWith(`${name}/`)))
          offending.push(`${file.slice(repo.length + 1)}: ${specifier}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('are optional in package.json', async () => {
    const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    for (const name of OPTIONAL) {
      expect(pkg.peerDependencies[name]).toBeDefined();
      expect(pkg.peerDependenciesMeta[name]?.optional).toBe(true);
    }
  });

  it('load when installed, and are undefined when not', async () => {
    await expect(loadOptional('nestjs-tracing-no-such-package')).resolves.toBeUndefined();
    await expect(loadOptional('@nestjs/no-such-package/deep/file.js')).resolves.toBeUndefined();
    const loaded = await loadOptional<{ WsExceptionsHandler?: unknown }>(
      '@nestjs/websockets/exceptions/ws-exceptions-handler.js',
    );
    expect(typeof loaded?.WsExceptionsHandler).toBe('function');
  });
});
