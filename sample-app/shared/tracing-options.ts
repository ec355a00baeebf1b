import type { DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TracingModule, type ExporterOption, type TracingModuleOptions } from 'nestjs-tracing';

/**
 * What each service imports: its configuration, and tracing configured from it plus the
 * service's own options. Every service gets the default automatic spans (handlers, guards,
 * pipes, interceptors, filters, middleware); `extra` adds to them, e.g. `autoTrace: { providers: true }`.
 */
export function configAndTracing(
  serviceName: string,
  extra: () => TracingModuleOptions = () => ({}),
): Array<DynamicModule | Promise<DynamicModule>> {
  return [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    TracingModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({ ...tracingOptionsFrom(config, serviceName), ...extra() }),
    }),
  ];
}

/**
 * How a service configures tracing from its environment: the demo's trace file when
 * TRACE_FILE is set, plus Jaeger or any OTLP backend (Jaeger ingests OTLP on 4318)
 * when their endpoints are set. What a team would write with @nestjs/config.
 */
export function tracingOptionsFrom(config: ConfigService, serviceName: string): TracingModuleOptions {
  const exporters: ExporterOption[] = [];
  const file = config.get<string>('TRACE_FILE');
  const otlp = config.get<string>('OTEL_EXPORTER_OTLP_ENDPOINT');
  const jaeger = config.get<string>('JAEGER_ENDPOINT');
  if (file) exporters.push('file');
  if (otlp) exporters.push('otlp');
  if (jaeger) exporters.push('jaeger');
  return {
    serviceName,
    serviceVersion: '1.0.0',
    resourceAttributes: { 'deployment.environment.name': config.get('NODE_ENV', 'development') },
    exporter: exporters.length > 0 ? exporters : 'console',
    file: file ? { path: file } : undefined,
    jaeger: jaeger ? { endpoint: jaeger } : undefined,
    ignore: ['/health'],
  };
}
