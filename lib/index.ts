export { TracingModule } from './tracing.module.js';
export { Trace } from './decorators/trace.decorator.js';
export { SpanAttr } from './decorators/span-attr.decorator.js';
export type { TraceOptions } from './decorators/span-spec.js';
export { TraceService } from './trace.service.js';
export type { ExportStats } from './exporters/guarded-exporter.js';
export { JaegerFileExporter } from './exporters/jaeger-file.exporter.js';
export type {
  BatchOptions,
  ExporterName,
  ExporterOption,
  FileExporterOptions,
  IgnoreRule,
  JaegerOptions,
  OtlpOptions,
  TracingModuleAsyncOptions,
  TracingModuleOptions,
  TracingOptionsFactory,
} from './tracing-options.interface.js';
