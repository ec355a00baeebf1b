import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { TracingModule, type TracingModuleOptions } from 'nestjs-tracing';
import { resolveOptions } from '../../lib/options/resolve-options.js';

describe('options', () => {
  it('applies documented defaults', () => {
    const o = resolveOptions({}, {});
    expect(o).toMatchObject({
      enabled: true,
      serviceName: 'unknown_service',
      exporters: ['otlp'],
      sampleRatio: 1,
      traceOutgoingHttp: true,
      attributeValueLengthLimit: 2048,
      attributeCountLimit: 128,
      shutdownTimeoutMs: 5000,
      batch: { maxQueueSize: 8192, maxExportBatchSize: 512, scheduledDelayMillis: 1000, exportTimeoutMillis: 10000 },
    });
  });

  it('reads the OpenTelemetry environment variables when options are absent', () => {
    const o = resolveOptions(
      {},
      {
        OTEL_SERVICE_NAME: 'billing',
        OTEL_TRACES_EXPORTER: 'console, none',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_SDK_DISABLED: 'true',
      },
    );
    expect(o).toMatchObject({
      serviceName: 'billing',
      exporters: ['console', 'none'],
      sampleRatio: 0.25,
      enabled: false,
    });
    expect(
      resolveOptions(
        { serviceName: 'explicit', sampleRatio: 1 },
        { OTEL_SERVICE_NAME: 'env', OTEL_TRACES_SAMPLER: 'always_off' },
      ),
    ).toMatchObject({
      serviceName: 'explicit',
      sampleRatio: 1,
    });
  });

  it.each<[string, TracingModuleOptions, RegExp]>([
    [
      'unknown exporter',
      { exporter: 'datadog' as never },
      /option "exporter" must be one of "otlp", "zipkin", "jaeger", "console", "file", "none" or a SpanExporter instance, got "datadog"/,
    ],
    ['non-exporter object', { exporter: {} as never }, /option "exporter"/],
    [
      'malformed OTLP URL',
      { otlp: { url: 'localhost:4318' } },
      /option "otlp.url" must be an http:\/\/ or https:\/\/ URL, got "localhost:4318"/,
    ],
    ['malformed Jaeger endpoint', { jaeger: { endpoint: 'udp://x' } }, /option "jaeger.endpoint" must be an http/],
    ['bad Jaeger port', { jaeger: { port: 70000 } }, /option "jaeger.port" must be a port number/],
    ['ratio out of range', { sampleRatio: 2 }, /option "sampleRatio" must be a number between 0 and 1, got 2/],
    ['empty service name', { serviceName: ' ' }, /option "serviceName" must be a non-empty string/],
    ['file without path', { exporter: 'file' }, /option "file.path" must be a file path/],
    [
      'negative limit',
      { attributeValueLengthLimit: -1 },
      /option "attributeValueLengthLimit" must be a positive integer/,
    ],
    [
      'batch bigger than queue',
      { batch: { maxQueueSize: 10, maxExportBatchSize: 20 } },
      /option "batch.maxExportBatchSize" must be at most batch.maxQueueSize/,
    ],
  ])('rejects %s with a message that says what to fix', (_label, options, message) => {
    expect(() => resolveOptions(options, {})).toThrow(message);
    expect(() => resolveOptions(options, {})).toThrow(/Fix it in TracingModule.forRoot\(\)\/forRootAsync\(\)/);
  });

  it('rejects bad environment values, naming the variable', () => {
    expect(() => resolveOptions({}, { OTEL_TRACES_EXPORTER: 'datadog' })).toThrow(
      /OTEL_TRACES_EXPORTER .* got "datadog"/,
    );
    expect(() => resolveOptions({}, { OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => resolveOptions({}, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'x' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG/,
    );
  });

  it('stops the app at startup on bad configuration, sync or async', async () => {
    await expect(
      Test.createTestingModule({ imports: [TracingModule.forRoot({ sampleRatio: -1 })] }).compile(),
    ).rejects.toThrow(/sampleRatio/);
    await expect(
      Test.createTestingModule({
        imports: [TracingModule.forRootAsync({ useFactory: async () => ({ exporter: 'nope' as never }) })],
      }).compile(),
    ).rejects.toThrow(/option "exporter"/);
    expect(() => TracingModule.forRootAsync({})).toThrow(/needs one of useFactory, useClass or useExisting/);
  });

  it('accepts an exporter instance and a list', () => {
    const exporter = new InMemorySpanExporter();
    expect(resolveOptions({ exporter: [exporter, 'console'] }, {}).exporters).toEqual([exporter, 'console']);
  });
});
