import { Injectable } from '@nestjs/common';
import { StockDatabase } from './stock.database.js';

export interface StockItem {
  sku: string;
  name: string;
  available: number;
}

/** Plain `pg` queries: their spans come from @opentelemetry/instrumentation-pg (see inventory.module.ts). */
@Injectable()
export class StockRepository {
  constructor(private readonly database: StockDatabase) {}

  async findBySku(sku: string): Promise<StockItem | undefined> {
    const { rows } = await this.database.pool.query<StockItem>(
      'SELECT sku, name, available FROM stock WHERE sku = $1',
      [sku],
    );
    return rows[0];
  }

  async decrement(sku: string, quantity: number): Promise<number> {
    const { rows } = await this.database.pool.query<{ available: number }>(
      'UPDATE stock SET available = GREATEST(available - $2, 0) WHERE sku = $1 RETURNING available',
      [sku, quantity],
    );
    return rows[0]?.available ?? 0;
  }
}
