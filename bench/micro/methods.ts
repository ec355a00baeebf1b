/** The methods under test: plain, decorated with @Trace(), and traced by hand with the raw API. */
import { SpanKind, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { of, type Observable } from 'rxjs';
import { SpanAttr, Trace } from 'nestjs-tracing';

/** A SpanExporter that answers SUCCESS at once and keeps nothing. */
export class DiscardingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export class Plain {
  sync(i: number): number {
    return i + 1;
  }
  async async(i: number): Promise<number> {
    return i + 1;
  }
  obs(i: number): Observable<number> {
    return of(i);
  }
  attrs(id: string, qty: number): number {
    return qty + id.length;
  }
}

export class Traced {
  @Trace()
  sync(i: number): number {
    return i + 1;
  }
  @Trace()
  async async(i: number): Promise<number> {
    return i + 1;
  }
  @Trace()
  obs(i: number): Observable<number> {
    return of(i);
  }
  @Trace()
  attrs(@SpanAttr('order.id') id: string, @SpanAttr('order.qty') qty: number): number {
    return qty + id.length;
  }
}

/** What @Trace() puts on a span of `Class.method`, given to the raw API too, so both make the same span. */
export function sameAs(method: string, className = 'Traced'): { name: string; options: SpanOptions } {
  const qualified = `${className}.${method}`;
  return {
    name: qualified,
    options: { kind: SpanKind.INTERNAL, attributes: { 'code.function.name': qualified } },
  };
}

/** The macro app's service, three ways: untraced, @Trace(), and raw startActiveSpan by hand. */
export class PlainOrders {
  async find(id: string): Promise<{ id: string; total: number }> {
    return { id, total: this.price(id) };
  }
  price(id: string): number {
    return id.length * 10;
  }
}

export class TracedOrders {
  @Trace()
  async find(id: string): Promise<{ id: string; total: number }> {
    return { id, total: this.price(id) };
  }
  @Trace()
  price(id: string): number {
    return id.length * 10;
  }
}

export class RawOrders {
  private static readonly FIND = sameAs('find', 'TracedOrders');
  private static readonly PRICE = sameAs('price', 'TracedOrders');
  constructor(private readonly tracer: Tracer) {}
  find(id: string): Promise<{ id: string; total: number }> {
    return this.tracer.startActiveSpan(RawOrders.FIND.name, RawOrders.FIND.options, async (span) => {
      try {
        return { id, total: this.price(id) };
      } finally {
        span.end();
      }
    });
  }
  price(id: string): number {
    return this.tracer.startActiveSpan(RawOrders.PRICE.name, RawOrders.PRICE.options, (span) => {
      try {
        return id.length * 10;
      } finally {
        span.end();
      }
    });
  }
}
