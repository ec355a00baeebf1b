import 'reflect-metadata';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Test } from '@nestjs/testing';
import { TraceService, type TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import type { TestCertificates } from './tls.js';

/** A service called over node:http or node:https that records the headers it receives. */
export class Downstream {
  readonly received: IncomingHttpHeaders[] = [];
  url = '';
  private server?: http.Server | https.Server;

  constructor(private readonly tls?: TestCertificates) {}

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: http.ServerResponse) => {
      this.received.push(req.headers);
      if (req.url?.startsWith('/boom')) return void res.writeHead(500).end('boom');
      if (req.url?.startsWith('/half')) {
        res.writeHead(200, { 'content-length': '100' }).write('partial');
        return void setImmediate(() => res.socket?.destroy());
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    };
    this.server = this.tls
      ? https.createServer({ cert: this.tls.serverCert, key: this.tls.serverKey }, handler)
      : http.createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  last(): IncomingHttpHeaders {
    return this.received[this.received.length - 1]!;
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

/** Waits for the whole response: that is when the CLIENT span ends. */
export function consume(res: IncomingMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode ?? 0));
    res.on('error', reject);
  });
}

/** The request's own 'close', after which its span has ended. */
export const closed = (req: http.ClientRequest) => new Promise<void>((resolve) => req.once('close', () => resolve()));

/** An app without HTTP server of its own, recording its spans; calls are made in its TraceService's spans. */
export async function startApp(options: TracingModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'caller', autoTrace: false, ...options })],
  }).compile();
  const app = await moduleRef.createNestApplication({ logger: false }).init();
  return { app, recorder: app.get(SpanRecorder), tracing: app.get(TraceService) };
}
