import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { FileExporterOptions } from '../options/tracing-options.interface.js';
import { mergeTraces, parseJaegerDocument, toJaegerTraces, type JaegerTrace } from './jaeger-json.js';

// A lock older than this belongs to a writer that died: a merge takes milliseconds.
const STALE_LOCK_MS = 10_000;
const MAX_BACKOFF_MS = 200;

// Exporters of one process writing the same file take turns here, so the lock file
// only arbitrates between processes.
const writeQueues = new Map<string, Promise<void>>();

/**
 * Writes spans to one `{ "data": [trace, ...] }` file, merging every batch into what the
 * file already holds so that each trace stays a single entry.
 */
export class JaegerFileExporter implements SpanExporter {
  private readonly path: string;
  private lastWrite: Promise<void> = Promise.resolve();
  private isShutdown = false;

  constructor(options: FileExporterOptions) {
    this.path = resolve(options.path);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.isShutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('JaegerFileExporter is shut down') });
      return;
    }
    let traces: JaegerTrace[];
    try {
      traces = toJaegerTraces(spans);
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: asError(error) });
      return;
    }
    const write = enqueue(this.path, () => mergeIntoFile(this.path, traces));
    this.lastWrite = write.catch(() => undefined);
    write.then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: asError(error) }),
    );
  }

  forceFlush(): Promise<void> {
    // Writes to one path run in order, so the last one settling means all have.
    return this.lastWrite;
  }

  shutdown(): Promise<void> {
    this.isShutdown = true;
    return this.lastWrite;
  }
}

function enqueue(path: string, task: () => Promise<void>): Promise<void> {
  const run = (writeQueues.get(path) ?? Promise.resolve()).then(task);
  const settled = run.catch(() => undefined);
  writeQueues.set(path, settled);
  void settled.then(() => {
    if (writeQueues.get(path) === settled) writeQueues.delete(path);
  });
  return run;
}

async function mergeIntoFile(path: string, traces: JaegerTrace[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await withLock(`${path}.lock`, async () => {
    const merged = mergeTraces(await readTraces(path), traces);
    await writeAtomically(path, `${JSON.stringify({ data: merged }, null, 2)}\n`);
  });
}

async function readTraces(path: string): Promise<JaegerTrace[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  try {
    return parseJaegerDocument(JSON.parse(text));
  } catch {
    // Keep what was there for a human to look at, and carry on with a fresh file.
    await rename(path, `${path}.corrupt-${Date.now()}`);
    return [];
  }
}

// Readers (Jaeger UI, the CLI, another process) never see a half-written file.
async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function withLock(lockPath: string, task: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const age = await lockAge(lockPath);
    if (age === undefined) continue; // released meanwhile
    if (age > STALE_LOCK_MS) {
      // Two waiters may both judge it stale; the loser only costs a lost merge,
      // never a corrupt file, because writes are atomic renames.
      await rm(lockPath, { force: true });
      continue;
    }
    await sleep(Math.min(MAX_BACKOFF_MS, 5 * 2 ** attempt) * (0.5 + Math.random()));
  }
  try {
    await task();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function lockAge(lockPath: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(lockPath)).mtimeMs;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
