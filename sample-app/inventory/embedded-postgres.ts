import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface EmbeddedPostgres {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * PostgreSQL in-process (PGlite, WebAssembly) on the Postgres wire protocol at 127.0.0.1, on a
 * free port. Creating a cluster (initdb) costs ~5 s of CPU; its fresh data directory is kept in
 * the OS temp directory, per PGlite version, so later starts load it in about a second.
 */
export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const db = await freshDatabase();
  // PGlite is one backend session: the socket server takes one connection (its default; a
  // second one is reset) and queues every query anyway, so a pool of one is its true size.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const [host = '127.0.0.1', port] = server.getServerConn().split(':');
  return {
    host,
    port: Number(port),
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

async function freshDatabase(): Promise<PGlite> {
  // the package exports no package.json: read it beside its dist/ folder
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = await readFile(join(dirname(entry), '..', 'package.json'), 'utf8');
  const { version } = JSON.parse(manifest) as { version: string };
  const cached = join(tmpdir(), `nestjs-tracing-demo-pglite-${version}.tar.gz`);
  const data = await readFile(cached).catch(() => undefined);
  if (data) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([data]) });
    } catch {
      // a damaged copy: make a new one
    }
  }
  const db = await PGlite.create();
  const dump = await db.dumpDataDir('gzip');
  const partial = `${cached}.${process.pid}`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, cached);
  return db;
}
