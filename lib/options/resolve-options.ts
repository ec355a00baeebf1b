import type { Attributes } from '@opentelemetry/api';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type {
  BatchOptions,
  CaptureHeadersOptions,
  ExporterName,
  ExportBackoffOptions,
  ExporterOption,
  IgnoreRule,
  PropagatorName,
  Instrumentation,
  TracingModuleOptions,
} from './tracing-options.interface.js';
import { Redactor } from '../attributes/redact.js';
import { safeAttributes } from '../attributes/set-safe-attribute.js';
import { resolveAutoTrace, type ResolvedAutoTrace } from './auto-trace.js';
import { resolveInstrumentations } from './instrumentations.js';
import { resolveGraphql, type ResolvedGraphql } from './graphql.js';
import { check, checkUrl, isInt, isPlainObject, positiveInt } from './checks.js';
import { invalidEnv } from './messages.js';
import { resolveOtlp, type ResolvedOtlpOptions } from './otlp.js';
import { resolvePropagators } from './propagators.js';
import { resolveZipkin, type ResolvedZipkinOptions } from './zipkin.js';

const EXPORTER_NAMES: readonly ExporterName[] = ['otlp', 'zipkin', 'jaeger', 'console', 'file', 'none'];
const DEFAULT_REDACT = [/authorization/i, /cookie/i, /password/i, /passwd/i, /token/i, /secret/i, /api[-_.]?key/i];

/** Options with every default applied and every value checked, once, at startup. */
export interface ResolvedOptions {
  enabled: boolean;
  serviceName: string;
  resourceAttributes: Attributes;
  exporters: ExporterOption[];
  otlp: ResolvedOtlpOptions;
  zipkin: ResolvedZipkinOptions;
  jaeger: NonNullable<TracingModuleOptions['jaeger']>;
  filePath?: string;
  sampleRatio: number;
  autoTrace: ResolvedAutoTrace;
  graphql: ResolvedGraphql;
  ignore: IgnoreRule[];
  /** In order of precedence when reading; empty for no propagation. */
  propagators: PropagatorName[];
  traceOutgoingHttp: boolean;
  attributeValueLengthLimit: number;
  attributeCountLimit: number;
  /** Events and links kept per span (the oldest go first): OTEL_SPAN_EVENT_COUNT_LIMIT / OTEL_SPAN_LINK_COUNT_LIMIT, as the SDK reads them. */
  eventCountLimit: number;
  linkCountLimit: number;
  redact: Redactor;
  /** Lower-case header names to record; empty by default. */
  captureHeaders: { request: string[]; response: string[] };
  batch: Required<BatchOptions>;
  spanProcessors: SpanProcessor[];
  instrumentations: Instrumentation[];
  exportBackoff: Required<ExportBackoffOptions>;
  shutdownTimeoutMs: number;
}

export function resolveOptions(options: TracingModuleOptions = {}, env = process.env): ResolvedOptions {
  const o = options ?? {};
  const serviceName = o.serviceName ?? env.OTEL_SERVICE_NAME ?? env.npm_package_name ?? 'unknown_service';
  check(typeof serviceName === 'string' && serviceName.trim() !== '', 'serviceName', 'a non-empty string', serviceName);
  check(
    o.serviceVersion === undefined || typeof o.serviceVersion === 'string',
    'serviceVersion',
    'a string',
    o.serviceVersion,
  );
  check(
    o.resourceAttributes === undefined || isPlainObject(o.resourceAttributes),
    'resourceAttributes',
    'an object',
    o.resourceAttributes,
  );

  const exporters = resolveExporters(o.exporter, env);
  const filePath = o.file?.path;
  if (exporters.includes('file'))
    check(
      typeof filePath === 'string' && filePath !== '',
      'file.path',
      'a file path when exporter "file" is chosen',
      filePath,
    );
  if (o.jaeger?.endpoint !== undefined) checkUrl('jaeger.endpoint', o.jaeger.endpoint);
  if (o.jaeger?.port !== undefined)
    check(isInt(o.jaeger.port, 1, 65535), 'jaeger.port', 'a port number (1-65535)', o.jaeger.port);

  const batch = {
    maxQueueSize: positiveInt('batch.maxQueueSize', o.batch?.maxQueueSize, 8192),
    maxExportBatchSize: positiveInt('batch.maxExportBatchSize', o.batch?.maxExportBatchSize, 512),
    scheduledDelayMillis: positiveInt('batch.scheduledDelayMillis', o.batch?.scheduledDelayMillis, 1000),
    exportTimeoutMillis: positiveInt('batch.exportTimeoutMillis', o.batch?.exportTimeoutMillis, 10000),
  };
  check(
    batch.maxExportBatchSize <= batch.maxQueueSize,
    'batch.maxExportBatchSize',
    'at most batch.maxQueueSize',
    batch.maxExportBatchSize,
  );
  check(
    o.ignore === undefined || Array.isArray(o.ignore),
    'ignore',
    'an array of strings, RegExps or functions',
    o.ignore,
  );
  check(o.redact === undefined || Array.isArray(o.redact), 'redact', 'an array of strings or RegExps', o.redact);
  const exportBackoff = {
    initialMs: positiveInt('exportBackoff.initialMs', o.exportBackoff?.initialMs, 1000),
    maxMs: positiveInt('exportBackoff.maxMs', o.exportBackoff?.maxMs, 30000),
  };
  check(
    exportBackoff.maxMs >= exportBackoff.initialMs,
    'exportBackoff.maxMs',
    'at least exportBackoff.initialMs',
    exportBackoff.maxMs,
  );
  const attributeValueLengthLimit = positiveInt('attributeValueLengthLimit', o.attributeValueLengthLimit, 2048);
  const redact = new Redactor([...DEFAULT_REDACT, ...(o.redact ?? []).map(toKeyPattern)]);

  return {
    enabled: o.enabled ?? env.OTEL_SDK_DISABLED?.toLowerCase() !== 'true',
    serviceName,
    resourceAttributes: {
      ...safeAttributes(o.resourceAttributes, {
        attributeValueLengthLimit,
        redact,
      }),
      'service.name': serviceName,
      ...(o.serviceVersion ? { 'service.version': o.serviceVersion } : {}),
    },
    exporters,
    otlp: resolveOtlp(o.otlp, env),
    zipkin: resolveZipkin(o.zipkin, env),
    jaeger: o.jaeger ?? {},
    filePath,
    sampleRatio: resolveRatio(o.sampleRatio, env),
    autoTrace: resolveAutoTrace(o.autoTrace),
    graphql: resolveGraphql(o.graphql),
    ignore: o.ignore ?? [],
    propagators: resolvePropagators(o.propagators, env),
    traceOutgoingHttp: o.traceOutgoingHttp ?? true,
    attributeValueLengthLimit,
    attributeCountLimit: positiveInt('attributeCountLimit', o.attributeCountLimit, 128),
    eventCountLimit: envCount(env.OTEL_SPAN_EVENT_COUNT_LIMIT),
    linkCountLimit: envCount(env.OTEL_SPAN_LINK_COUNT_LIMIT),
    redact,
    captureHeaders: resolveCaptureHeaders(o.captureHeaders),
    batch,
    spanProcessors: resolveSpanProcessors(o.spanProcessors),
    instrumentations: resolveInstrumentations(o.instrumentations),
    exportBackoff,
    shutdownTimeoutMs: positiveInt('shutdownTimeoutMs', o.shutdownTimeoutMs, 5000),
  };
}

/** A count limit from the environment; what is not a whole number ≥ 0 leaves the SDK's default, 128. */
function envCount(value: string | undefined): number {
  const count = Number(value?.trim() || NaN);
  return Number.isInteger(count) && count >= 0 ? count : 128;
}

function resolveExporters(option: TracingModuleOptions['exporter'], env: NodeJS.ProcessEnv): ExporterOption[] {
  if (option === undefined) {
    const fromEnv = env.OTEL_TRACES_EXPORTER?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!fromEnv?.length) return ['otlp'];
    for (const name of fromEnv) {
      if (!EXPORTER_NAMES.includes(name as ExporterName)) {
        throw new Error(invalidEnv('OTEL_TRACES_EXPORTER', `a list of ${EXPORTER_NAMES.join(', ')}`, name));
      }
    }
    return fromEnv as ExporterName[];
  }
  const list = Array.isArray(option) ? option : [option];
  for (const item of list) {
    const ok = typeof item === 'string' ? EXPORTER_NAMES.includes(item) : isSpanExporter(item);
    check(ok, 'exporter', `one of ${EXPORTER_NAMES.map((n) => `"${n}"`).join(', ')} or a SpanExporter instance`, item);
  }
  return list;
}

function resolveSpanProcessors(option: unknown): SpanProcessor[] {
  const ok = option === undefined || (Array.isArray(option) && option.every(isSpanProcessor));
  check(ok, 'spanProcessors', 'an array of SpanProcessor instances (onStart, onEnd, forceFlush, shutdown)', option);
  return option ?? [];
}

function resolveRatio(ratio: number | undefined, env: NodeJS.ProcessEnv): number {
  if (ratio !== undefined) {
    check(typeof ratio === 'number' && ratio >= 0 && ratio <= 1, 'sampleRatio', 'a number between 0 and 1', ratio);
    return ratio;
  }
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (!sampler) return 1;
  if (sampler === 'always_on' || sampler === 'parentbased_always_on') return 1;
  if (sampler === 'always_off' || sampler === 'parentbased_always_off') return 0;
  if (sampler === 'traceidratio' || sampler === 'parentbased_traceidratio') {
    const arg = env.OTEL_TRACES_SAMPLER_ARG ?? '1';
    const value = Number(arg);
    if (!(value >= 0 && value <= 1))
      throw new Error(invalidEnv('OTEL_TRACES_SAMPLER_ARG', 'a number between 0 and 1', arg));
    return value;
  }
  throw new Error(
    invalidEnv('OTEL_TRACES_SAMPLER', 'always_on, always_off, traceidratio or their parentbased_ forms', sampler),
  );
}

function resolveCaptureHeaders(option: CaptureHeadersOptions | undefined): ResolvedOptions['captureHeaders'] {
  check(
    option === undefined || isPlainObject(option),
    'captureHeaders',
    'an object { request?: string[]; response?: string[] }',
    option,
  );
  const names = (list: unknown, name: string): string[] => {
    if (list === undefined) return [];
    const ok = Array.isArray(list) && list.every((h) => typeof h === 'string' && /^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(h));
    check(ok, name, 'an array of header names', list);
    return [...new Set((list as string[]).map((h) => h.toLowerCase()))];
  };
  return {
    request: names(option?.request, 'captureHeaders.request'),
    response: names(option?.response, 'captureHeaders.response'),
  };
}

function toKeyPattern(rule: string | RegExp): RegExp {
  // test() on a /g or /y RegExp depends on the previous call: keep only the other flags
  if (rule instanceof RegExp)
    return /[gy]/.test(rule.flags) ? new RegExp(rule.source, rule.flags.replace(/[gy]/g, '')) : rule;
  check(typeof rule === 'string' && rule !== '', 'redact', 'an array of strings or RegExps', rule);
  return new RegExp(`^${rule.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'i');
}

const isSpanExporter = (v: unknown): v is SpanExporter =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as SpanExporter).export === 'function' &&
  typeof (v as SpanExporter).shutdown === 'function';
const isSpanProcessor = (v: unknown): v is SpanProcessor =>
  typeof v === 'object' &&
  v !== null &&
  ['onStart', 'onEnd', 'forceFlush', 'shutdown'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function');
