import {
  diag,
  SpanStatusCode,
  type Attributes,
  type AttributeValue,
  type Exception,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  type TimeInput,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import { isTimeInput, nowNs, toHrTime, toNs } from './clock.js';
import { keptAttributes, keptValue, type RecordLimits } from './limits.js';
import type { RecordContext } from './record-context.js';

/** What the spans of one tracer share: where they come from, what they may hold, where they go when they end. */
export interface RecordOwner {
  readonly scope: InstrumentationScope;
  readonly resource: Resource;
  readonly limits: RecordLimits;
  /** Before the span counts as ended: processors' onEnding may still change it. */
  ending(record: SpanRecord): void;
  ended(record: SpanRecord): void;
}

const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const NONE: readonly never[] = Object.freeze([]);

/**
 * A sampled span: a flat record of what the API was told, with times on the pipeline's
 * clock and attributes checked, cut and redacted as they are set. It is the span user
 * code holds (the API's Span) and, read through its getters, the ReadableSpan a span
 * processor or exporter receives; the OTLP encoder reads its fields directly.
 */
export class SpanRecord implements Span, ReadableSpan {
  readonly attributes: Attributes = {};
  ended = false;
  endNs = 0;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  status: SpanStatus = UNSET;
  private attributeCount = 0;
  private eventList?: TimedEvent[];
  private linkList?: Link[];

  constructor(
    readonly owner: RecordOwner,
    readonly context: RecordContext,
    /** The parent's context, if the span has a valid parent. */
    readonly parentSpanContext: SpanContext | undefined,
    public name: string,
    readonly kind: SpanKind,
    readonly startNs: number,
  ) {}

  spanContext(): RecordContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.ended) return this.afterEnd();
    const kept = keptValue(key, value, this.owner.limits);
    if (kept === undefined) return this;
    if (!Object.prototype.hasOwnProperty.call(this.attributes, key)) {
      if (this.attributeCount >= this.owner.limits.attributeCountLimit) {
        this.droppedAttributesCount++;
        return this;
      }
      this.attributeCount++;
    }
    this.attributes[key] = kept;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) {
      if (Object.prototype.hasOwnProperty.call(attributes, key))
        this.setAttribute(key, attributes[key] as AttributeValue);
    }
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this.afterEnd();
    const { eventCountLimit, attributePerEventCountLimit } = this.owner.limits;
    if (eventCountLimit === 0) {
      this.droppedEventsCount++;
      return this;
    }
    const events = (this.eventList ??= []);
    if (events.length >= eventCountLimit) {
      events.shift();
      this.droppedEventsCount++;
    }
    if (isTimeInput(attributesOrTime)) {
      if (!isTimeInput(time)) time = attributesOrTime;
      attributesOrTime = undefined;
    }
    const kept = keptAttributes(attributesOrTime, attributePerEventCountLimit, this.owner.limits);
    events.push({
      name,
      attributes: kept.attributes,
      time: toHrTime(time === undefined ? nowNs() : toNs(time)),
      droppedAttributesCount: kept.dropped,
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this.afterEnd();
    const { linkCountLimit, attributePerLinkCountLimit } = this.owner.limits;
    if (linkCountLimit === 0) {
      this.droppedLinksCount++;
      return this;
    }
    const links = (this.linkList ??= []);
    if (links.length >= linkCountLimit) {
      links.shift();
      this.droppedLinksCount++;
    }
    const kept = keptAttributes(link.attributes, attributePerLinkCountLimit, this.owner.limits);
    const added: Link = { context: link.context };
    if (Object.keys(kept.attributes).length > 0) added.attributes = kept.attributes;
    if (kept.dropped > 0) added.droppedAttributesCount = kept.dropped;
    links.push(added);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.ended) return this.afterEnd();
    // as the SDK: UNSET changes nothing, OK is final, only ERROR carries a message
    if (status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status =
      status.code === SpanStatusCode.ERROR && typeof status.message === 'string'
        ? { code: status.code, message: status.message }
        : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (this.ended) return this.afterEnd();
    this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) {
      diag.error(
        `${this.name} ${this.context.traceId}-${this.context.spanId} - You can only call end() on a span once.`,
      );
      return;
    }
    const end = endTime === undefined ? nowNs() : toNs(endTime);
    this.endNs = end < this.startNs ? this.startNs : end;
    this.owner.ending(this);
    this.ended = true;
    this.owner.ended(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes['exception.message'] = exception;
    } else if (exception) {
      if (exception.code) attributes['exception.type'] = exception.code.toString();
      else if (exception.name) attributes['exception.type'] = exception.name;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    if (attributes['exception.type'] || attributes['exception.message']) this.addEvent('exception', attributes, time);
    else diag.warn(`Failed to record an exception of type ${typeof exception}`);
  }

  // ---- ReadableSpan, for processors and exporters other than the OTLP encoder ----

  get events(): TimedEvent[] {
    return this.eventList ?? (NONE as never[]);
  }

  get links(): Link[] {
    return this.linkList ?? (NONE as never[]);
  }

  get startTime(): HrTime {
    return toHrTime(this.startNs);
  }

  get endTime(): HrTime {
    return this.ended ? toHrTime(this.endNs) : [0, 0];
  }

  get duration(): HrTime {
    if (!this.ended) return [-1, -1];
    const ns = this.endNs - this.startNs;
    const seconds = Math.floor(ns / 1e9);
    return [seconds, ns - seconds * 1e9];
  }

  get resource(): Resource {
    return this.owner.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.owner.scope;
  }

  private afterEnd(): this {
    diag.warn(
      `Cannot execute the operation on ended Span {traceId: ${this.context.traceId}, spanId: ${this.context.spanId}}`,
    );
    return this;
  }
}
