import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { SpanAttr, Trace, TraceService } from 'nestjs-tracing';
import { StockRepository, type StockItem } from './stock.repository.js';

@Injectable()
export class StockService {
  constructor(
    private readonly repository: StockRepository,
    private readonly tracing: TraceService,
  ) {}

  @Trace()
  async find(@SpanAttr('inventory.sku') sku: string): Promise<StockItem> {
    const item = await this.repository.findBySku(sku);
    if (!item) throw new NotFoundException(`No product with SKU "${sku}"`);
    this.tracing.setAttribute('inventory.available', item.available);
    return item;
  }

  @Trace()
  async reserve(@SpanAttr('inventory.sku') sku: string, @SpanAttr('inventory.quantity') quantity: number) {
    const item = await this.find(sku);
    if (item.available < quantity) {
      this.tracing.addEvent('reservation.rejected', { available: item.available, requested: quantity });
      throw new ConflictException(`Only ${item.available} of "${sku}" left`);
    }
    return { sku, reserved: quantity, left: await this.repository.decrement(sku, quantity) };
  }

  @Trace()
  dailyReport(): never {
    throw new Error('Reporting database is unavailable');
  }
}
