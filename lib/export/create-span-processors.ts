import type { Logger } from '@nestjs/common';
import {
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { ResolvedOptions } from '../options/resolve-options.js';
import type { ExporterOption } from '../options/tracing-options.interface.js';
import { GuardedExporter } from './guarded-exporter.js';
import { createJaegerExporter } from './jaeger-exporter.js';
import { JaegerFileExporter } from './jaeger-file.exporter.js';
import { createOtlpExporter } from './otlp-exporter.js';
import { RecordBatcher } from './record-batcher.js';
import { createZipkinExporter } from './zipkin-exporter.js';

export interface SpanProcessors {
  processors: SpanProcessor[];
  exporters: GuardedExporter[];
}

export async function createSpanProcessors(options: ResolvedOptions, logger: Logger): Promise<SpanProcessors> {
  const processors: SpanProcessor[] = [];
  const exporters: GuardedExporter[] = [];
  for (const choice of options.exporters) {
    if (choice === 'none') continue;
    const exporter = await createExporter(choice, options);
    const guarded = new GuardedExporter(
      exporter,
      exporterName(choice),
      logger,
      options.batch.exportTimeoutMillis,
      options.exportBackoff,
    );
    exporters.push(guarded);
    // Console output is for people watching: show each span as it ends.
    if (choice === 'console') {
      processors.push(new SimpleSpanProcessor({ exporter: guarded }));
      continue;
    }
    processors.push(new RecordBatcher(guarded, options.batch));
  }
  return { processors, exporters };
}

async function createExporter(choice: ExporterOption, options: ResolvedOptions): Promise<SpanExporter> {
  if (typeof choice !== 'string') return choice;
  switch (choice) {
    case 'otlp':
      return createOtlpExporter(options.otlp, options.batch.exportTimeoutMillis);
    case 'zipkin':
      return createZipkinExporter(options.zipkin, options.batch.exportTimeoutMillis);
    case 'jaeger':
      return createJaegerExporter(options.jaeger);
    case 'console':
      return new ConsoleSpanExporter();
    case 'file':
      return new JaegerFileExporter({ path: options.filePath as string });
    default:
      throw new Error(`unreachable exporter ${choice}`);
  }
}

function exporterName(choice: ExporterOption): string {
  return typeof choice === 'string' ? choice : (choice.constructor?.name ?? 'custom exporter');
}
