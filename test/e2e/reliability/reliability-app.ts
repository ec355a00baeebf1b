import 'reflect-metadata';
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Trace, TraceService, TracingModule, type ExportStats, type TracingModuleOptions } from 'nestjs-tracing';
import { CapturedLogs } from '../../support/captured-logs.js';
import type { Platform } from '../../support/platforms.js';
import { freePort } from '../../support/ports.js';

@Injectable()
export class PingService {
  @Trace()
  pong(): string {
    return 'pong';
  }
}

/** GET /ping: one SERVER span and one traced call, so 2 spans a request. */
@Controller()
export class PingController {
  constructor(private readonly ping: PingService) {}

  @Get('ping')
  get(): string {
    return this.ping.pong();
  }
}

export const SPANS_PER_PING = 2;

export interface ReliabilityApp {
  app: INestApplication;
  logs: CapturedLogs;
  url: string;
  /** The app's first exporter's figures (TraceService.exportStats()). */
  stats(): ExportStats;
}

export async function startApp(
  options: TracingModuleOptions,
  extra: {
    controllers?: Array<new (...args: any[]) => unknown>;
    providers?: Array<new (...args: any[]) => unknown>;
    platform?: Platform;
  } = {},
): Promise<ReliabilityApp> {
  @Module({
    // the tests' own fetch() calls run in this process: keep them out of the span counts
    imports: [
      TracingModule.forRoot({ serviceName: 'reliability', traceOutgoingHttp: false, autoTrace: false, ...options }),
    ],
    controllers: [PingController, ...(extra.controllers ?? [])],
    providers: [PingService, ...(extra.providers ?? [])],
  })
  class AppModule {}

  const logs = new CapturedLogs();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication(
    extra.platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
    { logger: logs },
  );
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const tracing = app.get(TraceService);
  return { app, logs, url: `http://127.0.0.1:${port}`, stats: () => tracing.exportStats()[0]! };
}

/** GET url/path n times, `parallel` at once; returns each request's status and latency. */
export async function hit(
  url: string,
  n: number,
  parallel = 10,
  path = '/ping',
): Promise<Array<{ status: number; ms: number }>> {
  const results: Array<{ status: number; ms: number }> = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const began = performance.now();
      const res = await fetch(`${url}${path}`);
      await res.arrayBuffer();
      results.push({ status: res.status, ms: performance.now() - began });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return results;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A port on 127.0.0.1 that refuses connections (nothing listens) until `open(target)`
 * forwards it to another port, e.g. a receiver that comes back.
 */
export class SwitchablePort {
  port = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  static async reserve(): Promise<SwitchablePort> {
    const p = new SwitchablePort();
    p.port = await freePort();
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  async open(targetPort: number): Promise<void> {
    this.server = createServer((socket) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [socket, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server?.listening) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
