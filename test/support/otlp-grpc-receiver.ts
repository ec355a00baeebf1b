import * as grpc from '@grpc/grpc-js';
import { ExportRequest, ExportResponse, toReceivedSpans, type OtlpRequest } from './otlp-receiver.js';
import { SpanSink } from './received-span.js';

/** The path a collector serves: package and service of opentelemetry-proto's trace_service.proto. */
export const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

export interface OtlpGrpcReceiverOptions {
  /** Serve over TLS with this certificate; with `ca`, also require a client certificate signed by it. */
  tls?: { cert: string; key: string; ca?: string };
}

/**
 * A real @grpc/grpc-js server implementing TraceService/Export, the messages decoded with the
 * OTLP proto (test/support/otlp/trace_service.proto). Records each call's metadata.
 */
export class OtlpGrpcReceiver extends SpanSink {
  readonly metadata: Array<Record<string, grpc.MetadataValue>> = [];
  port = 0;
  private readonly server = new grpc.Server();

  constructor(private readonly options: OtlpGrpcReceiverOptions = {}) {
    super();
    const service: grpc.ServiceDefinition = {
      Export: {
        path: EXPORT_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: (value: OtlpRequest) => Buffer.from(ExportRequest.encode(value).finish()),
        requestDeserialize: (bytes: Buffer) =>
          ExportRequest.toObject(ExportRequest.decode(bytes), { longs: String }) as OtlpRequest,
        responseSerialize: (value: object) => Buffer.from(ExportResponse.encode(value).finish()),
        responseDeserialize: (bytes: Buffer) => ExportResponse.decode(bytes),
      },
    };
    this.server.addService(service, {
      Export: (call: grpc.ServerUnaryCall<OtlpRequest, object>, callback: grpc.sendUnaryData<object>) => {
        this.metadata.push(call.metadata.getMap());
        try {
          this.addSpans(toReceivedSpans(call.request));
          callback(null, {});
        } catch (err) {
          this.addError(`OTLP gRPC: ${String(err)}`);
          callback({ code: grpc.status.INVALID_ARGUMENT, details: String(err) });
        }
      },
    });
  }

  /** The exporter's url: http:// for plaintext, https:// for TLS. */
  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const { tls } = this.options;
    const credentials = tls
      ? grpc.ServerCredentials.createSsl(
          tls.ca ? Buffer.from(tls.ca) : null,
          [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
          Boolean(tls.ca),
        )
      : grpc.ServerCredentials.createInsecure();
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', credentials, (err, port) => (err ? reject(err) : resolve(port))),
    );
    return this;
  }

  close(): Promise<void> {
    this.server.forceShutdown();
    return Promise.resolve();
  }
}

export function startOtlpGrpcReceiver(options?: OtlpGrpcReceiverOptions): Promise<OtlpGrpcReceiver> {
  return new OtlpGrpcReceiver(options).start();
}
