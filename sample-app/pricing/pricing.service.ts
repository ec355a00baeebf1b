import { Injectable } from '@nestjs/common';
import { SpanAttr } from 'nestjs-tracing';

const LIST_PRICES: Record<string, number> = { lamp: 3900, chair: 18900, desk: 45900 };

/** Traced without a decorator (autoTrace `providers: true`); @SpanAttr still names the arguments. */
@Injectable()
export class PricingService {
  quote(@SpanAttr('product.sku') sku: string, @SpanAttr('order.quantity') quantity: number) {
    const unitCents = LIST_PRICES[sku] ?? 0;
    return { sku, quantity, unitCents, totalCents: this.discounted(unitCents * quantity, quantity) };
  }

  /** Volume discount: 5% from three items. */
  discounted(@SpanAttr('price.gross_cents') cents: number, quantity: number): number {
    return quantity >= 3 ? Math.round(cents * 0.95) : cents;
  }
}
