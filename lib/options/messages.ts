export const invalidOption = (option: string, expected: string, got: unknown): string =>
  `nestjs-tracing: option "${option}" must be ${expected}, got ${describe(got)}. Fix it in TracingModule.forRoot()/forRootAsync().`;

export const invalidEnv = (name: string, expected: string, got: string): string =>
  `nestjs-tracing: environment variable ${name} must be ${expected}, got "${got}".`;

export const jaegerNotInstalled = (): string =>
  'nestjs-tracing: exporter "jaeger" needs the package @opentelemetry/exporter-jaeger. ' +
  'Install it: npm i @opentelemetry/exporter-jaeger@2.11.0';

export const otlpGrpcNotInstalled = (): string =>
  'nestjs-tracing: exporter "otlp" with otlp.protocol "grpc" needs the package @opentelemetry/exporter-trace-otlp-grpc. ' +
  'Install it: npm i @opentelemetry/exporter-trace-otlp-grpc@0.222.0';

export const usingGlobalProvider = (): string =>
  'A tracer provider is already registered (a preloaded OpenTelemetry SDK): using it. The SDK decides, so these ' +
  'options of TracingModule are ignored: serviceName, serviceVersion, resourceAttributes, exporter (and its ' +
  'settings), batch, exportBackoff, sampleRatio, attributeCountLimit and spanProcessors (so a TracingTestingModule ' +
  'records nothing); redact and attributeValueLengthLimit apply only to the values this module sets itself ' +
  '(@SpanAttr, TraceService, captured headers). Its propagator, if it set one, is used instead of propagators.';

export const exporterDown = (name: string, error: unknown): string =>
  `Span export to ${name} failed (${errorText(error)}); dropping spans until it recovers.`;

export const exporterRecovered = (name: string, dropped: number): string =>
  `Span export to ${name} recovered; ${dropped} span(s) were dropped while it was failing.`;

export const exporterDroppedAtShutdown = (name: string, dropped: number): string =>
  `Span export to ${name} was still failing at shutdown; ${dropped} span(s) were dropped.`;

export const queueFull = (name: string): string =>
  `Span queue for ${name} is full (batch.maxQueueSize): new spans are dropped until it drains. ` +
  'Export is slower than spans are produced: raise batch.maxQueueSize or lower sampleRatio.';

export const queueDrained = (name: string, dropped: number): string =>
  `Span queue for ${name} is no longer overflowing; ${dropped} span(s) were dropped while it was full.`;

export const unfinishedExports = (max: number): string =>
  `the exporter has ${max} exports it never answered; no more are sent until one ends`;

export const shutdownTimedOut = (ms: number): string =>
  `Flushing spans at shutdown took longer than shutdownTimeoutMs (${ms} ms); the rest were dropped.`;

export const providersUndecided = (): string =>
  "autoTrace.providers: true tells the app's own providers from those of packages with node:inspector, " +
  'which this Node does not have: no provider gets an automatic span. Pass a function ' +
  '(provider, method) => boolean to choose them instead.';

export const graphqlWithoutHooks = (): string =>
  'autoTrace.resolvers: this @nestjs/graphql has no request hooks (ResolverDecoratorHost.setOnRequestStartHook, ' +
  'in 13.4.4 and later): GraphQL operations and resolvers get no span. Upgrade @nestjs/graphql and its driver ' +
  '(@nestjs/apollo, @nestjs/mercurius) to 13.4.4 or later, or set autoTrace.resolvers to false to silence this.';

export const tracingFault = (where: string, error: unknown): string =>
  `Tracing failed in ${where} (${errorText(error)}); the call went on untraced. Reported once.`;

export function errorText(error: unknown): string {
  try {
    if (error instanceof Error) return error.message || error.name;
    return String(error);
  } catch {
    return 'unprintable error';
  }
}

function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
  } catch {
    return typeof value;
  }
}

export const severalTracingModules = (count: number): string =>
  `nestjs-tracing: ${count} TracingModules in one app; every span would be recorded ${count} times. ` +
  "Import TracingModule once. In a test, replace the app's own with " +
  '.overrideModule(<the TracingModule.forRoot() it imports>).useModule(TracingTestingModule.forRoot()) ' +
  '(keep that module in a constant; overrideModule(TracingModule) matches no dynamic module).';

export const instrumentationsIgnored = (names: string[]): string =>
  `A preloaded OpenTelemetry SDK is in charge: option "instrumentations" (${names.join(', ')}) is ignored. ` +
  'Register these instrumentations with that SDK instead.';
