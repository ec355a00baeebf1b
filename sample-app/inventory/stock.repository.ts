import { Injectable } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { SpanAttr, Trace } from 'nestjs-tracing';

export interface StockItem {
  sku: string;
  name: string;
  available: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stands in for a database: each query takes a few milliseconds, like a real round trip. */
@Injectable()
export class StockRepository {
  private readonly items = new Map<string, StockItem>([
    ['lamp', { sku: 'lamp', name: 'Desk lamp', available: 12 }],
    ['chair', { sku: 'chair', name: 'Office chair', available: 3 }],
    ['desk', { sku: 'desk', name: 'Standing desk', available: 0 }],
  ]);

  @Trace('SELECT stock', {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system.name': 'postgresql', 'db.collection.name': 'stock' },
  })
  async findBySku(@SpanAttr('inventory.sku') sku: string): Promise<StockItem | undefined> {
    await sleep(4);
    return this.items.get(sku);
  }

  @Trace('UPDATE stock', {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system.name': 'postgresql', 'db.collection.name': 'stock' },
  })
  async decrement(
    @SpanAttr('inventory.sku') sku: string,
    @SpanAttr('inventory.quantity') quantity: number,
  ): Promise<number> {
    await sleep(6);
    const item = this.items.get(sku);
    if (!item) return 0;
    item.available = Math.max(0, item.available - quantity);
    return item.available;
  }
}
