import type { Attributes, TracerProvider } from '@opentelemetry/api';
import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Type } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';

export type ExporterName = 'otlp' | 'zipkin' | 'jaeger' | 'console' | 'file' | 'none';
export type ExporterOption = ExporterName | SpanExporter;

/** A request is left untraced when its path equals a string, matches a RegExp, or the function says so. */
export type IgnoreRule = string | RegExp | ((path: string, req: IncomingMessage) => boolean);

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** Trace context formats read from incoming requests and messages and written to outgoing ones. */
export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi' | 'jaeger';

export interface OtlpOptions {
  /** Default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL, else 'http/protobuf'. */
  protocol?: OtlpProtocol;
  /**
   * Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT, else
   * http://localhost:4318/v1/traces (http/protobuf, http/json) or http://localhost:4317 (grpc,
   * plaintext for http://, TLS for https://).
   */
  url?: string;
  /** HTTP headers, or gRPC metadata (e.g. an API key). Default: OTEL_EXPORTER_OTLP_TRACES_HEADERS / OTEL_EXPORTER_OTLP_HEADERS. */
  headers?: Record<string, string>;
  /** Default: batch.exportTimeoutMillis. */
  timeoutMillis?: number;
  /** Default: OTEL_EXPORTER_OTLP_TRACES_COMPRESSION / OTEL_EXPORTER_OTLP_COMPRESSION, else 'none'. */
  compression?: 'gzip' | 'none';
  /**
   * For an https:// url: PEM contents (not paths) of the CA to trust and of a client
   * certificate and key for mutual TLS. Default: the files named by
   * OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY (or their
   * OTEL_EXPORTER_OTLP_ forms), else the system's CAs.
   */
  tls?: OtlpTlsOptions;
}

export interface OtlpTlsOptions {
  ca?: string | Buffer;
  /** Client certificate chain; needs `key`. */
  cert?: string | Buffer;
  /** Client private key; needs `cert`. */
  key?: string | Buffer;
}

export interface ZipkinOptions {
  /** Zipkin v2 JSON endpoint. Default: OTEL_EXPORTER_ZIPKIN_ENDPOINT, else http://localhost:9411/api/v2/spans. */
  url?: string;
  headers?: Record<string, string>;
}

export interface JaegerOptions {
  /** Collector endpoint for thrift over HTTP, e.g. http://localhost:14268/api/traces. */
  endpoint?: string;
  /** UDP agent host (used when no endpoint is given). Default localhost. */
  host?: string;
  /** UDP agent port. Default 6832 (binary thrift). */
  port?: number;
  username?: string;
  password?: string;
}

export interface FileExporterOptions {
  /** File to write: Jaeger UI's "Upload JSON" form, one entry per trace. */
  path: string;
}

export interface BatchOptions {
  maxQueueSize?: number;
  maxExportBatchSize?: number;
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
}

/** Headers recorded on SERVER spans, by name (case-insensitive). None by default. */
export interface CaptureHeadersOptions {
  /** Request headers recorded as `http.request.header.<name>` (a string array). */
  request?: string[];
  /** Response headers recorded as `http.response.header.<name>` (a string array). */
  response?: string[];
}

/** How often a failing exporter is retried: one probe batch per period, doubling up to maxMs. */
export interface ExportBackoffOptions {
  /** Wait after the first failure. Default 1000 ms. */
  initialMs?: number;
  /** Longest wait between probes. Default 30000 ms. */
  maxMs?: number;
}

/** A class left without automatic spans: the class itself, its name, or a RegExp tested against its name. */
export type AutoTraceExclude = Type | string | RegExp;

/**
 * Which parts of the app get spans without a decorator. Each key defaults as shown;
 * `@NoTrace()` and `exclude` take classes or methods out, and an explicit `@Trace()` is
 * never doubled by an automatic span.
 */
export interface AutoTraceOptions {
  /** A span per route handler call (`nestjs.type=handler`). Default true. */
  controllers?: boolean;
  /** Guards, pipes, interceptors and exception filters. Default true. */
  enhancers?: boolean;
  /** Class and functional middleware. Default true. */
  middleware?: boolean;
  /** `true`: every method of every provider of the app; or a function choosing them. Default false. */
  providers?: boolean | ((provider: Type, method: string) => boolean);
  /** WebSocket connections, messages and disconnections, and gateway handlers (needs @nestjs/websockets). Default true. */
  gateways?: boolean;
  /** GraphQL operations and `@Query`/`@Mutation`/`@ResolveField` methods (needs @nestjs/graphql). Default true. */
  resolvers?: boolean;
  /** `@OnEvent` listeners (needs @nestjs/event-emitter). Default true. */
  events?: boolean;
  /** `@Cron`, `@Interval` and `@Timeout` runs (needs @nestjs/schedule). Default true. */
  schedule?: boolean;
  /** BullMQ producers and processors (needs @nestjs/bullmq). Default true. */
  queues?: boolean;
  /** Classes that get no automatic span. Default none. */
  exclude?: AutoTraceExclude[];
}

/**
 * An OpenTelemetry instrumentation, as `@opentelemetry/instrumentation` defines it: e.g.
 * `new PgInstrumentation()` from `@opentelemetry/instrumentation-pg`. One built on its
 * `InstrumentationBase` is also applied to the packages already loaded (its module definitions).
 */
export interface Instrumentation {
  readonly instrumentationName: string;
  readonly instrumentationVersion: string;
  enable(): void;
  disable(): void;
  setTracerProvider(tracerProvider: TracerProvider): void;
}

/** The GraphQL operation span (autoTrace.resolvers). */
export interface GraphqlOptions {
  /**
   * Record the operation's document as `graphql.document`, every string and number literal
   * replaced by `"*"` / `*` (values may be secrets; variables are never recorded). Default false.
   */
  document?: boolean;
}

export interface TracingModuleOptions {
  /** `service.name`. Default: OTEL_SERVICE_NAME, else npm_package_name (set by `npm start`/`npm run`), else `unknown_service`. */
  serviceName?: string;
  serviceVersion?: string;
  resourceAttributes?: Attributes;
  /** Turn tracing off entirely (decorators become plain calls). Default: not OTEL_SDK_DISABLED. */
  enabled?: boolean;
  /** Default: OTEL_TRACES_EXPORTER, else 'otlp'. */
  exporter?: ExporterOption | ExporterOption[];
  otlp?: OtlpOptions;
  zipkin?: ZipkinOptions;
  jaeger?: JaegerOptions;
  file?: FileExporterOptions;
  /** Share of new traces recorded, 0..1; a continued trace follows its parent. Default: OTEL_TRACES_SAMPLER(_ARG), else 1. */
  sampleRatio?: number;
  /** Automatic spans for the Nest building blocks and entry points; `false` turns them all off. */
  autoTrace?: false | AutoTraceOptions;
  graphql?: GraphqlOptions;
  /** Requests left without a server span, e.g. health checks. */
  ignore?: IgnoreRule[];
  /**
   * Formats of the trace context read from and written to every carrier (HTTP requests,
   * outgoing fetch/axios/node:http calls, microservice messages): each is written; when
   * reading, the first one present and valid wins. Default: OTEL_PROPAGATORS, else
   * ['tracecontext', 'baggage']. With a preloaded SDK, its own propagator is used instead.
   */
  propagators?: PropagatorName[];
  /**
   * CLIENT spans and context propagation for outgoing HTTP calls made inside a trace: global
   * fetch, and node:http/node:https requests (so axios, @nestjs/axios HttpService, got,
   * superagent, node-fetch and SDKs built on them). Default true.
   */
  traceOutgoingHttp?: boolean;
  /**
   * Longest string kept in an attribute; longer values are cut. Arrays are cut where their
   * items add up to this many characters; objects are written as JSON up to this length.
   * Default 2048.
   */
  attributeValueLengthLimit?: number;
  /** Most attributes kept per span (and per span event); the rest are dropped and counted on the span. Default 128. */
  attributeCountLimit?: number;
  /**
   * Attribute keys whose values are replaced by `[REDACTED]` on every span the app records,
   * added to the defaults (authorization, cookie/set-cookie, password/passwd, token, secret,
   * api-key). A string matches a whole key (or a captured header's name), case-insensitively;
   * a RegExp is tested against the key.
   */
  redact?: Array<string | RegExp>;
  /** Headers recorded on SERVER spans. Headers and bodies are never recorded unless listed here. */
  captureHeaders?: CaptureHeadersOptions;
  batch?: BatchOptions;
  /**
   * Span processors of your own, run after redaction and beside the exporters' processors
   * (which keep their queue, guard and shutdown guarantees; these get none of them).
   */
  spanProcessors?: SpanProcessor[];
  /**
   * OpenTelemetry instrumentations (`@opentelemetry/instrumentation-pg`, `-mysql2`, `-ioredis`, ...),
   * enabled on this app's tracer provider when the app starts and disabled when it closes. Each
   * is also applied to the CommonJS packages already loaded, so no `--require`/`--import`
   * preload is needed for them. Ignored (with a log line) under a preloaded SDK. Default none.
   */
  instrumentations?: Instrumentation[];
  /** Retry pacing while an exporter fails (spans are dropped and counted meanwhile). */
  exportBackoff?: ExportBackoffOptions;
  /** Longest wait for the final flush when the app closes. Default 5000 ms. */
  shutdownTimeoutMs?: number;
}

export interface TracingOptionsFactory {
  createTracingOptions(): Promise<TracingModuleOptions> | TracingModuleOptions;
}

export interface TracingModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Takes the providers listed in `inject`, in that order. */
  useFactory?: (...args: never[]) => Promise<TracingModuleOptions> | TracingModuleOptions;
  useClass?: Type<TracingOptionsFactory>;
  useExisting?: Type<TracingOptionsFactory>;
}
