import { createRequire } from 'node:module';
import type { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { ResolvedOtlpOptions } from '../options/otlp.js';
import { otlpGrpcNotInstalled } from '../options/messages.js';
import { OtlpRecordExporter } from './otlp/otlp-record-exporter.js';

const ownRequire = createRequire(import.meta.url);

/**
 * The OTLP exporter for `otlp.protocol`: http/protobuf encodes span records itself (over the
 * OpenTelemetry exporter's transport); http/json ships with this package and grpc is an
 * optional peer (it brings @grpc/grpc-js), both loaded only when chosen.
 * What `otlp` leaves unset, the exporter takes from the OTEL_EXPORTER_OTLP_* environment.
 */
export async function createOtlpExporter(options: ResolvedOtlpOptions, timeoutMillis: number): Promise<SpanExporter> {
  const { protocol, url, headers, compression, tls } = options;
  const common = {
    url,
    timeoutMillis: options.timeoutMillis ?? timeoutMillis,
    compression: compression as CompressionAlgorithm | undefined,
  };
  if (protocol === 'grpc') return createGrpcExporter(options, common);
  const httpAgentOptions = tls ? { keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key } : undefined;
  const config = { ...common, headers, httpAgentOptions };
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(config);
  }
  return new OtlpRecordExporter(config);
}

interface GrpcHelpers {
  createEmptyMetadata(): { set(key: string, value: string): void };
  createSslCredentials(ca?: Buffer, key?: Buffer, cert?: Buffer): unknown;
}

/** Headers become gRPC metadata; `tls` becomes the channel's credentials (else the URL's scheme decides). */
type GrpcConfig = NonNullable<
  ConstructorParameters<typeof import('@opentelemetry/exporter-trace-otlp-grpc').OTLPTraceExporter>[0]
>;

async function createGrpcExporter(options: ResolvedOtlpOptions, common: GrpcConfig): Promise<SpanExporter> {
  let mod: typeof import('@opentelemetry/exporter-trace-otlp-grpc');
  let helpers: GrpcHelpers;
  try {
    mod = await import('@opentelemetry/exporter-trace-otlp-grpc');
    // the exporter's own dependency, found from where the exporter is (pnpm shows a package only its declared ones)
    const exporterRequire = createRequire(ownRequire.resolve('@opentelemetry/exporter-trace-otlp-grpc'));
    helpers = exporterRequire('@opentelemetry/otlp-grpc-exporter-base') as GrpcHelpers;
  } catch {
    throw new Error(otlpGrpcNotInstalled());
  }
  const { headers, tls } = options;
  let metadata: ReturnType<GrpcHelpers['createEmptyMetadata']> | undefined;
  if (headers) {
    metadata = helpers.createEmptyMetadata();
    for (const [key, value] of Object.entries(headers)) metadata.set(key.toLowerCase(), value);
  }
  const pem = (value: string | Buffer | undefined) => (typeof value === 'string' ? Buffer.from(value) : value);
  const credentials = tls ? helpers.createSslCredentials(pem(tls.ca), pem(tls.key), pem(tls.cert)) : undefined;
  return new mod.OTLPTraceExporter({
    ...common,
    metadata: metadata as GrpcConfig['metadata'],
    credentials: credentials as GrpcConfig['credentials'],
  });
}
