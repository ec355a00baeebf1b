/**
 * The floor for the macro benchmark: the CPU the raw SDK spends creating the same 3 spans
 * a traced request has and exporting them over OTLP/protobuf to the sink
 * (process.cpuUsage around create + forceFlush).
 */
import { SpanKind, type Attributes, type Tracer } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { BATCH } from '../batch-settings.js';
import { rawProvider } from './apps.js';
import { pairedDiff, summarize, type Summary } from '../stats.js';
import { DiscardingExporter, sameAs } from './methods.js';

export interface FloorOptions {
  rounds: number;
  /** Simulated requests (3 spans each) per round. */
  floorRequests: number;
  sinkUrl: string;
}

export interface FloorReport {
  unit: 'µs CPU per request';
  spans_per_request: 3;
  /** Raw SDK: create the 3 spans of a request and export them over OTLP/protobuf. */
  create_and_export_us: Summary;
  /** Raw SDK: create the 3 spans, export to an exporter that discards. */
  create_only_us: Summary;
  export_us: Summary;
  spans_received: number;
  spans_expected: number;
}

const FIND = sameAs('find');
const PRICE = sameAs('price');

/** The spans a traced `GET /orders/:id` makes, with the attributes the library sets, by hand. */
function rawRequest(tracer: Tracer, i: number): void {
  const attributes: Attributes = {
    'http.request.method': 'GET',
    'url.path': `/orders/${i}`,
    'url.scheme': 'http',
    'server.address': '127.0.0.1',
    'server.port': 3000,
    'client.address': '127.0.0.1',
    'user_agent.original': '',
    'network.protocol.version': '1.1',
  };
  tracer.startActiveSpan('GET', { kind: SpanKind.SERVER, attributes }, (server) => {
    tracer.startActiveSpan(FIND.name, FIND.options, (find) => {
      tracer.startActiveSpan(PRICE.name, PRICE.options, (price) => price.end());
      find.end();
    });
    server.updateName('GET /orders/:id');
    server.setAttribute('http.route', '/orders/:id');
    server.setAttribute('http.response.status_code', 200);
    server.end();
  });
}

async function cpuPerRequest(provider: TracerProvider, requests: number): Promise<number> {
  const tracer = provider.getTracer('floor');
  const chunk = 170; // 510 spans: one export batch per flush, like the macro's 512
  const before = process.cpuUsage();
  for (let done = 0; done < requests; done += chunk) {
    const n = Math.min(chunk, requests - done);
    for (let i = 0; i < n; i++) rawRequest(tracer, done + i);
    await provider.forceFlush();
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / requests;
}

export async function measureFloor(options: FloorOptions): Promise<FloorReport> {
  let received = 0;
  const otlp = new OTLPTraceExporter({ url: options.sinkUrl, timeoutMillis: BATCH.exportTimeoutMillis });
  const counting: SpanExporter = {
    export: (spans, done) =>
      otlp.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) received += spans.length;
        done(result);
      }),
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush(),
  };
  const exported = rawProvider(counting);
  const discarded = rawProvider(new DiscardingExporter());
  try {
    await cpuPerRequest(exported, Math.min(2000, options.floorRequests)); // warm-up, keep-alive socket
    await cpuPerRequest(discarded, Math.min(2000, options.floorRequests));
    received = 0;
    const withExport: number[] = [];
    const createOnly: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      // alternate which goes first
      if (round % 2 === 0) {
        withExport.push(await cpuPerRequest(exported, options.floorRequests));
        createOnly.push(await cpuPerRequest(discarded, options.floorRequests));
      } else {
        createOnly.push(await cpuPerRequest(discarded, options.floorRequests));
        withExport.push(await cpuPerRequest(exported, options.floorRequests));
      }
    }
    return {
      unit: 'µs CPU per request',
      spans_per_request: 3,
      create_and_export_us: summarize(withExport),
      create_only_us: summarize(createOnly),
      export_us: pairedDiff(withExport, createOnly),
      spans_received: received,
      spans_expected: options.rounds * options.floorRequests * 3,
    };
  } finally {
    await exported.shutdown();
    await discarded.shutdown();
  }
}
