import { Injectable } from '@nestjs/common';
import { map, Observable, reduce, take, timer } from 'rxjs';
import { SpanAttr, Trace } from '../../lib/index.js';
import type { CreateOrderDto } from './create-order.dto.js';
import { InventoryClient } from './inventory.client.js';

const PRICES: Record<string, number> = { lamp: 3900, chair: 18900, desk: 45900 };

@Injectable()
export class OrdersService {
  constructor(private readonly inventory: InventoryClient) {}

  @Trace()
  async product(@SpanAttr('product.sku') sku: string) {
    const stock = await this.inventory.stock(sku);
    return { ...stock, priceCents: this.price(sku) };
  }

  @Trace()
  price(@SpanAttr('product.sku') sku: string): number {
    return PRICES[sku] ?? 0;
  }

  @Trace()
  async place(@SpanAttr('order.request', (o: CreateOrderDto) => `${o.quantity} x ${o.sku}`) order: CreateOrderDto) {
    await this.inventory.stock(order.sku);
    const { left } = await this.inventory.reserve(order.sku, order.quantity);
    return { orderId: `ord-${Date.now().toString(36)}`, ...order, totalCents: this.price(order.sku) * order.quantity, left };
  }

  /** Rendering a PDF invoice is slow: this is the span to look for in the waterfall. */
  @Trace()
  invoice(@SpanAttr('order.id') id: string): Promise<{ id: string; pages: number }> {
    return new Promise((resolve) => setTimeout(() => resolve({ id, pages: 3 }), 120));
  }

  /** Delivery estimates from three carriers, arriving one after another. */
  @Trace()
  deliveryQuotes(@SpanAttr('product.sku') sku: string): Observable<{ sku: string; cheapestCents: number }> {
    return timer(0, 15).pipe(
      take(3),
      map((carrier) => 900 - carrier * 150),
      reduce((cheapest, quote) => Math.min(cheapest, quote)),
      map((cheapestCents) => ({ sku, cheapestCents })),
    );
  }

  @Trace()
  dailyReport() {
    return this.inventory.dailyReport();
  }
}
