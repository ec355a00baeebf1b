import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ExportRequest, ExportResponse, readBody, toReceivedSpans, type OtlpRequest } from './otlp-receiver.js';
import { SpanSink } from './received-span.js';

/** How a request arrived: what the exporter chose to put on the wire besides the spans. */
export interface OtlpHttpRequest {
  contentType: string;
  contentEncoding?: string;
  headers: IncomingMessage['headers'];
  /** The client certificate's CN, over mutual TLS. */
  clientCertificate?: string;
}

export interface OtlpHttpReceiverOptions {
  /** Serve https with this certificate; with `ca`, also ask for a client certificate signed by it. */
  tls?: { cert: string; key: string; ca?: string };
}

/**
 * OTLP over HTTP in both encodings (protobuf, JSON), plain or over TLS (mutual when asked),
 * recording per request the content type, compression and headers the exporter sent.
 */
export class OtlpHttpReceiver extends SpanSink {
  readonly requests: OtlpHttpRequest[] = [];
  port = 0;
  private readonly server;

  constructor(private readonly options: OtlpHttpReceiverOptions = {}) {
    super();
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const { tls } = options;
    this.server = tls
      ? createHttpsServer(
          {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
          },
          handler,
        )
      : createHttpServer(handler);
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/v1/traces`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    this.requests.push({
      contentType,
      contentEncoding: req.headers['content-encoding'],
      headers: req.headers,
      ...(peer?.subject ? { clientCertificate: String(peer.subject.CN) } : {}),
    });
    readBody(req).then(
      (body) => {
        try {
          if (contentType === 'application/json') {
            this.addSpans(toReceivedSpans(JSON.parse(body.toString('utf8')) as OtlpRequest));
            return void res.writeHead(200, { 'content-type': contentType }).end('{}');
          }
          const decoded = ExportRequest.toObject(ExportRequest.decode(body), { longs: String }) as OtlpRequest;
          this.addSpans(toReceivedSpans(decoded));
          res.writeHead(200, { 'content-type': contentType }).end(ExportResponse.encode({}).finish());
        } catch (err) {
          this.addError(`OTLP ${contentType}: ${String(err)}`);
          res.writeHead(400).end(String(err));
        }
      },
      (err: unknown) => this.addError(`OTLP body: ${String(err)}`),
    );
  }
}

export function startOtlpHttpReceiver(options?: OtlpHttpReceiverOptions): Promise<OtlpHttpReceiver> {
  return new OtlpHttpReceiver(options).start();
}
