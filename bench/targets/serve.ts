/**
 * Boots a bench target in this (child) process and talks to the bench over IPC:
 *   → { type: 'ready', port }            once listening on 127.0.0.1
 *   ← { type: 'cpu' }   → { type: 'cpu', user, system, rss }   process.cpuUsage() in µs
 *   ← { type: 'flush' } → { type: 'flushed' }   export every span ended so far
 *   ← { type: 'profile-start' } / { type: 'profile-stop', file } → { type: 'profiled' }
 *       V8's sampling CPU profiler (what --cpu-prof uses) over exactly the measured run
 *   ← { type: 'stop' }  closes the app and exits
 * Exits by itself when the bench goes away.
 */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export type Platform = 'express' | 'fastify';

export interface ServeOptions {
  module: Type;
  /** Exports whatever the target's batch processor holds; resolves when the sink has it. */
  flush?: (app: INestApplication) => Promise<void>;
  /** Runs once the app is initialised, before it listens (e.g. to wrap the HTTP server's request listener). */
  beforeListen?: (app: INestApplication) => void | Promise<void>;
}

type Request =
  | { type: 'cpu' }
  | { type: 'flush' }
  | { type: 'stop' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string };

let session: Session | undefined;

function post(method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

async function startProfile(): Promise<void> {
  session ??= new Session();
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
}

async function stopProfile(file: string): Promise<void> {
  const { profile } = (await post('Profiler.stop')) as { profile: object };
  session!.disconnect();
  await writeFile(file, JSON.stringify(profile));
}

export function platformArg(): Platform {
  const value = process.env.BENCH_PLATFORM ?? 'express';
  if (value !== 'express' && value !== 'fastify')
    throw new Error(`BENCH_PLATFORM must be express or fastify, got ${value}`);
  return value;
}

export function sinkUrl(): string {
  const url = process.env.BENCH_OTLP_URL;
  if (!url) throw new Error('BENCH_OTLP_URL is not set');
  return url;
}

export async function serve({ module, flush, beforeListen }: ServeOptions): Promise<void> {
  // never outlive the bench, even if it goes away while this app is still booting
  process.on('disconnect', () => process.exit(0));
  if (process.send && !process.connected) process.exit(0);
  const platform = platformArg();
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(module, adapter, { logger: false });
  if (beforeListen) {
    await app.init();
    await beforeListen(app);
  }
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const send = (message: object): void => {
    if (process.connected) process.send!(message);
  };
  process.on('message', (message: Request) => {
    switch (message.type) {
      case 'cpu': {
        const { user, system } = process.cpuUsage();
        send({ type: 'cpu', user, system, rss: process.memoryUsage.rss() });
        break;
      }
      case 'flush':
        void (flush ? flush(app) : Promise.resolve()).then(
          () => send({ type: 'flushed' }),
          (error: unknown) => send({ type: 'flushed', error: String(error) }),
        );
        break;
      case 'profile-start':
        void startProfile().then(
          () => send({ type: 'profiled' }),
          (error: unknown) => send({ type: 'profiled', error: String(error) }),
        );
        break;
      case 'profile-stop':
        void stopProfile(message.file).then(
          () => send({ type: 'profiled' }),
          (error: unknown) => send({ type: 'profiled', error: String(error) }),
        );
        break;
      case 'stop':
        void app.close().finally(() => process.exit(0));
        break;
    }
  });
  send({ type: 'ready', port });
}
