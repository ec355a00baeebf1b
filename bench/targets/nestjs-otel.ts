/**
 * Peer: nestjs-otel as its README says: the OpenTelemetry SDK started before Nest (here by
 * the `--import ./otel-preload.js` preload, with the instrumentations its README's
 * getNodeAutoInstrumentations() brings to this app), OpenTelemetryModule.forRoot(), and
 * its @Span() on the two service methods.
 */
import { OpenTelemetryModule, Span } from 'nestjs-otel';
import { appModule, type Order, type Orders } from './app.js';
import { serve } from './serve.js';
import { flushOtelSdk } from './otel-sdk.js';

class SpanOrdersService implements Orders {
  @Span()
  async find(id: string): Promise<Order> {
    return { id, total: this.price(id) };
  }

  @Span()
  price(id: string): number {
    return id.length * 10;
  }
}

await serve({ module: appModule(SpanOrdersService, [OpenTelemetryModule.forRoot()]), flush: flushOtelSdk });
