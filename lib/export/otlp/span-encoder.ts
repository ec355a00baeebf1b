import type { Link, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { TimedEvent } from '@opentelemetry/sdk-trace';
import { toNs, writeUnixNano } from '../../pipeline/clock.js';
import { RecordContext } from '../../pipeline/record-context.js';
import type { SpanRecord } from '../../pipeline/span-record.js';
import { AttributeWriter } from './attribute-writer.js';
import { ProtoWriter } from './proto-writer.js';

/** OTLP span flags: the W3C trace flags, and whether the parent (or the linked span) is remote. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

/**
 * Span records to an OTLP ExportTraceServiceRequest in protobuf, field for field what the
 * SDK's ProtobufTraceSerializer writes for the same spans, in one pass over one reused
 * buffer. The resource and each instrumentation scope are encoded once and copied into
 * every request; spans are grouped under them by identity, as the SDK groups them.
 */
export class OtlpSpanEncoder {
  private readonly w = new ProtoWriter();
  private readonly attributes = new AttributeWriter(this.w);
  private readonly encodedResources = new WeakMap<Resource, Uint8Array>();
  private readonly encodedScopes = new WeakMap<InstrumentationScope, Uint8Array>();

  encode(records: readonly SpanRecord[]): Uint8Array {
    const w = this.w;
    w.reset();
    for (const [resource, scopes] of group(records)) {
      w.varint32(0x0a); // ExportTraceServiceRequest.resource_spans
      const resourceSpans = w.begin(2);
      w.raw(this.resourceBytes(resource));
      for (const [scope, spans] of scopes) {
        w.varint32(0x12); // ResourceSpans.scope_spans
        const scopeSpans = w.begin(2);
        w.raw(this.scopeBytes(scope));
        for (const span of spans) {
          w.varint32(0x12); // ScopeSpans.spans
          const body = w.begin(2);
          this.span(span);
          w.end(body, 2);
        }
        if (scope.schemaUrl) {
          w.varint32(0x1a);
          w.string(scope.schemaUrl);
        }
        w.end(scopeSpans, 2);
      }
      if (resource.schemaUrl) {
        w.varint32(0x1a);
        w.string(resource.schemaUrl);
      }
      w.end(resourceSpans, 2);
    }
    return w.finish();
  }

  private span(span: SpanRecord): void {
    const w = this.w;
    const context = span.context;
    const parent = span.parentSpanContext;
    // the ids first, in one go: tags, lengths and words, 38 bytes at most
    w.ensure(38);
    const buffer = w.buffer;
    let pos = w.pos;
    buffer[pos++] = 0x0a;
    pos = putWords(buffer, pos, context.trace.words);
    buffer[pos++] = 0x12;
    pos = putWords(buffer, pos, context.words);
    w.pos = pos;
    this.traceState(context, 0x1a);
    if (parent instanceof RecordContext) {
      w.ensure(10);
      w.buffer[w.pos++] = 0x22;
      w.pos = putWords(w.buffer, w.pos, parent.words);
    } else if (parent?.spanId) {
      w.varint32(0x22);
      w.hexBytes(parent.spanId);
    }
    w.varint32(0x2a);
    w.string(span.name);
    w.varint32(0x30);
    w.varint32(span.kind + 1); // the proto counts UNSPECIFIED as 0
    this.time(0x39, span.startNs);
    this.time(0x41, span.endNs);
    this.attributes.attributes(span.attributes, 9);
    w.varint32(0x50);
    w.varint32(span.droppedAttributesCount);
    for (const event of span.events) this.event(event);
    w.varint32(0x60);
    w.varint32(span.droppedEventsCount);
    for (const link of span.links) this.link(link);
    w.varint32(0x70);
    w.varint32(span.droppedLinksCount);
    w.varint32(0x7a); // status
    const status = w.begin(1);
    if (span.status.message) {
      w.varint32(0x12);
      w.string(span.status.message);
    }
    w.varint32(0x18);
    w.varint32(span.status.code);
    w.end(status, 1);
    w.varint32((16 << 3) | 5); // flags: a fixed32, the one field past 15 (two tag bytes)
    w.fixed32(flags(context.traceFlags, parent?.isRemote));
  }

  private event(event: TimedEvent): void {
    const w = this.w;
    w.varint32(0x5a);
    const body = w.begin(2);
    this.time(0x09, toNs(event.time));
    w.varint32(0x12);
    w.string(event.name);
    if (event.attributes) this.attributes.attributes(event.attributes, 3);
    w.varint32(0x20);
    w.varint32(event.droppedAttributesCount ?? 0);
    w.end(body, 2);
  }

  private link(link: Link): void {
    const w = this.w;
    w.varint32(0x6a);
    const body = w.begin(1);
    w.varint32(0x0a);
    w.hexBytes(link.context.traceId);
    w.varint32(0x12);
    w.hexBytes(link.context.spanId);
    this.traceState(link.context, 0x1a);
    if (link.attributes) this.attributes.attributes(link.attributes, 4);
    w.varint32(0x28);
    w.varint32(link.droppedAttributesCount ?? 0);
    w.varint32(0x35);
    w.fixed32(flags(link.context.traceFlags, link.context.isRemote));
    w.end(body, 1);
  }

  private traceState(context: SpanContext, tag: number): void {
    const serialized = context.traceState?.serialize();
    if (!serialized) return;
    this.w.varint32(tag);
    this.w.string(serialized);
  }

  private time(tag: number, ns: number): void {
    const w = this.w;
    w.varint32(tag);
    w.ensure(8);
    writeUnixNano(w.buffer, w.pos, ns);
    w.pos += 8;
  }

  /** ResourceSpans.resource, encoded the first time the resource is seen. */
  private resourceBytes(resource: Resource): Uint8Array {
    let bytes = this.encodedResources.get(resource);
    if (bytes === undefined) {
      bytes = this.aside(() => {
        const w = this.w;
        w.varint32(0x0a);
        const body = w.begin(2);
        this.attributes.attributes(resource.attributes, 1);
        w.varint32(0x10); // dropped_attributes_count
        w.varint32(0);
        w.end(body, 2);
      });
      this.encodedResources.set(resource, bytes);
    }
    return bytes;
  }

  /** ScopeSpans.scope, encoded the first time the scope is seen. */
  private scopeBytes(scope: InstrumentationScope): Uint8Array {
    let bytes = this.encodedScopes.get(scope);
    if (bytes === undefined) {
      bytes = this.aside(() => {
        const w = this.w;
        w.varint32(0x0a);
        const body = w.begin(1);
        w.varint32(0x0a);
        w.string(scope.name);
        if (scope.version) {
          w.varint32(0x12);
          w.string(scope.version);
        }
        w.end(body, 1);
      });
      this.encodedScopes.set(scope, bytes);
    }
    return bytes;
  }

  /** Encodes with `write` past the request being built, and gives back just those bytes. */
  private aside(write: () => void): Uint8Array {
    const w = this.w;
    const start = w.pos;
    write();
    const bytes = Uint8Array.prototype.slice.call(w.buffer, start, w.pos);
    w.pos = start;
    return bytes;
  }
}

/** An id as length-delimited bytes: its 32-bit words, each big-endian (the order of its hex digits). */
function putWords(buffer: Buffer, at: number, words: number[]): number {
  let pos = at;
  buffer[pos++] = words.length * 4;
  for (const w of words) {
    buffer[pos++] = w >>> 24;
    buffer[pos++] = w >>> 16;
    buffer[pos++] = w >>> 8;
    buffer[pos++] = w;
  }
  return pos;
}

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

/** Spans by resource, then by instrumentation scope, each in the order they came. */
function group(records: readonly SpanRecord[]): Map<Resource, Map<InstrumentationScope, SpanRecord[]>> {
  const resources = new Map<Resource, Map<InstrumentationScope, SpanRecord[]>>();
  const first = records[0]?.owner;
  let sameOwner = first !== undefined;
  for (let i = 1; sameOwner && i < records.length; i++) sameOwner = records[i]?.owner === first;
  if (first !== undefined && sameOwner) {
    // the usual batch: every span from the app's own tracer
    return resources.set(first.resource, new Map([[first.scope, records as SpanRecord[]]]));
  }
  for (const record of records) {
    const owner = record.owner;
    let scopes = resources.get(owner.resource);
    if (scopes === undefined) {
      scopes = new Map();
      resources.set(owner.resource, scopes);
    }
    const spans = scopes.get(owner.scope);
    if (spans === undefined) scopes.set(owner.scope, [record]);
    else spans.push(record);
  }
  return resources;
}
