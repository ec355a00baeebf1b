/**
 * nestjs-tracing as its README says: TracingModule.forRoot with the OTLP exporter and
 * @Trace() on the two service methods. Server spans come from the module. Every request
 * is sampled (the default ratio is 1): 3 spans per request, through the batch processor.
 */
import { appModule, type Order, type Orders } from './app.js';
import { serve, sinkUrl } from './serve.js';
import { Trace, TraceService, TracingModule } from 'nestjs-tracing';

class TracedOrdersService implements Orders {
  @Trace()
  async find(id: string): Promise<Order> {
    return { id, total: this.price(id) };
  }

  @Trace()
  price(id: string): number {
    return id.length * 10;
  }
}

// autoTrace off: the same 3 spans per request as the raw-SDK target (automatic spans are measured in micro)
const tracing = TracingModule.forRoot({
  serviceName: 'bench',
  exporter: 'otlp',
  otlp: { url: sinkUrl() },
  autoTrace: false,
});

await serve({
  module: appModule(TracedOrdersService, [tracing]),
  flush: (app) => app.get(TraceService, { strict: false }).forceFlush(),
});
