export { TracingModule } from './tracing.module.js';
export { getTracingOptionsToken, TRACING_OPTIONS } from './tracing.constants.js';
export { Trace } from './decorators/trace.decorator.js';
export { SpanAttr } from './decorators/span-attr.decorator.js';
export { NoTrace } from './decorators/no-trace.decorator.js';
export type { TraceOptions } from './engine/span-spec.js';
export { TraceService } from './trace.service.js';
export { TracingLogger } from './logging/tracing-logger.js';
export { traceLogFields, type TraceLogFields } from './logging/trace-log-fields.js';
export type { ExportStats } from './export/export-stats.js';
export { JaegerFileExporter } from './export/jaeger-file.exporter.js';
export type {
  JaegerLog,
  JaegerProcess,
  JaegerReference,
  JaegerSpan,
  JaegerTag,
  JaegerTrace,
} from './export/jaeger-json.js';
export type { ResolvedOptions as ResolvedTracingOptions } from './options/resolve-options.js';
// the types the resolved options (`@Inject(TRACING_OPTIONS)`) are made of, so every field can be named
export type { Redactor } from './attributes/redact.js';
export type { ResolvedAutoTrace } from './options/auto-trace.js';
export type { ResolvedGraphql } from './options/graphql.js';
export type { ResolvedOtlpOptions } from './options/otlp.js';
export type { ResolvedZipkinOptions } from './options/zipkin.js';
export type {
  AutoTraceExclude,
  AutoTraceOptions,
  GraphqlOptions,
  BatchOptions,
  CaptureHeadersOptions,
  ExportBackoffOptions,
  ExporterName,
  ExporterOption,
  FileExporterOptions,
  IgnoreRule,
  Instrumentation,
  JaegerOptions,
  OtlpOptions,
  OtlpProtocol,
  OtlpTlsOptions,
  PropagatorName,
  TracingModuleAsyncOptions,
  TracingModuleOptions,
  TracingOptionsFactory,
  ZipkinOptions,
} from './options/tracing-options.interface.js';
