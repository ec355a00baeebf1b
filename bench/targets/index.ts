/** The macro targets: each is a script under dist/bench/targets/ run in its own process. */
export interface TargetSpec {
  id: string;
  label: string;
  /** Script, relative to this directory. */
  file: string;
  /** Module given to `node --import` before the script (the peers' SDK preload). */
  preload?: string;
  /** A peer (compared against nestjs-tracing), as opposed to the baseline or ourselves. */
  peer: boolean;
  note?: string;
}

export const UNTRACED = 'untraced';
export const OURS = 'nestjs-tracing';
export const RAW = 'raw-otel';

export const TARGETS: readonly TargetSpec[] = [
  { id: UNTRACED, label: 'untraced', file: 'untraced.js', peer: false },
  { id: OURS, label: 'nestjs-tracing', file: 'nestjs-tracing.js', peer: false },
  {
    id: RAW,
    label: 'raw OTel SDK by hand',
    file: 'raw-otel.js',
    peer: false,
    note: 'reference: the same 3 spans made with the raw SDK by hand (server span around the request listener, startActiveSpan in the methods), no redaction or export guard',
  },
  {
    id: 'otel-auto',
    label: 'OTel auto-instr.',
    file: 'otel-auto.js',
    preload: 'otel-preload.js',
    peer: true,
    note: 'http + express + nestjs-core instrumentations via the --import loader hook; nestjs-core declares @nestjs/core <12 and produces no spans on Nest 12; on Fastify only the http server span is made',
  },
  {
    id: 'nestjs-otel',
    label: 'nestjs-otel',
    file: 'nestjs-otel.js',
    preload: 'otel-preload.js',
    peer: true,
    note: 'OpenTelemetryModule.forRoot() + @Span() on both methods, over the SDK and instrumentations its README starts (same preload as OTel auto-instr.)',
  },
];
