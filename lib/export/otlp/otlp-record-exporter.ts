import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { SpanRecord } from '../../pipeline/span-record.js';
import { OtlpHttpSender } from './http-sender.js';
import { OtlpSpanEncoder } from './span-encoder.js';

/**
 * OTLP over HTTP/protobuf for the app's span records: our encoder and sender, with the
 * OpenTelemetry exporter's configuration (URL, headers, compression, TLS, timeout, each
 * defaulting from OTEL_EXPORTER_OTLP_*). It is fed only by this package's pipeline, so
 * every span it gets is a SpanRecord.
 */
export class OtlpRecordExporter implements SpanExporter {
  private readonly encoder = new OtlpSpanEncoder();
  private readonly sender: OtlpHttpSender;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(config: OTLPExporterNodeConfigBase) {
    this.sender = new OtlpHttpSender(
      convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    );
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    let body: Uint8Array;
    try {
      body = this.encoder.encode(spans as SpanRecord[]);
    } catch (error) {
      return done({ code: ExportResultCode.FAILED, error: error as Error });
    }
    const sent = this.sender.send(body).then(
      (answer) => {
        warnIfRejected(answer);
        done({ code: ExportResultCode.SUCCESS });
      },
      (error: Error) => done({ code: ExportResultCode.FAILED, error }),
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    await this.sender.shutdown();
  }
}

/** A collector that took the request but refused some spans says so in partial_success. */
function warnIfRejected(answer: Buffer): void {
  if (answer.length === 0) return;
  try {
    const partial = ProtobufTraceSerializer.deserializeResponse(answer).partialSuccess;
    if (partial?.rejectedSpans) {
      diag.warn(`OTLP collector rejected ${partial.rejectedSpans} spans: ${partial.errorMessage ?? ''}`);
    }
  } catch {
    // an answer we cannot read changes nothing: the spans were taken
  }
}
