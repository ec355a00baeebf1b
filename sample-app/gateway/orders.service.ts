import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, map, Observable, reduce, take, timer } from 'rxjs';
import { SpanAttr, Trace } from 'nestjs-tracing';
import type { CreateOrderDto } from './create-order.dto.js';
import { InventoryClient } from './inventory.client.js';

export const PRICING = 'PRICING';

interface Quote {
  unitCents: number;
  totalCents: number;
}

@Injectable()
export class OrdersService {
  constructor(
    private readonly inventory: InventoryClient,
    @Inject(PRICING) private readonly pricing: ClientProxy,
  ) {}

  @Trace()
  async product(@SpanAttr('product.sku') sku: string) {
    const stock = await this.inventory.stock(sku);
    const { unitCents } = await this.quote(sku, 1);
    return { ...stock, priceCents: unitCents };
  }

  /** Prices come from the pricing service, over Nest's TCP transport. */
  @Trace()
  quote(@SpanAttr('product.sku') sku: string, quantity: number): Promise<Quote> {
    return firstValueFrom(this.pricing.send<Quote>('price.quote', { sku, quantity }));
  }

  @Trace()
  async place(@SpanAttr('order.request', (o: CreateOrderDto) => `${o.quantity} x ${o.sku}`) order: CreateOrderDto) {
    await this.inventory.stock(order.sku);
    const { left } = await this.inventory.reserve(order.sku, order.quantity);
    const { totalCents } = await this.quote(order.sku, order.quantity);
    return { orderId: `ord-${Date.now().toString(36)}`, ...order, totalCents, left };
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
