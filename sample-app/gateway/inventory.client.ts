import { HttpService } from '@nestjs/axios';
import { ConflictException, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { isAxiosError } from 'axios';
import { ConfigService } from '@nestjs/config';
import { firstValueFrom } from 'rxjs';
import { SpanAttr, Trace } from 'nestjs-tracing';

export interface StockItem {
  sku: string;
  name: string;
  available: number;
}

/** Talks to the inventory service: reads with fetch, writes with HttpService (axios). */
@Injectable()
export class InventoryClient {
  private readonly baseUrl: string;

  constructor(
    private readonly http: HttpService,
    config: ConfigService,
  ) {
    this.baseUrl = config.get('INVENTORY_URL', 'http://127.0.0.1:3001');
  }

  @Trace()
  async stock(@SpanAttr('product.sku') sku: string): Promise<StockItem> {
    const res = await fetch(`${this.baseUrl}/stock/${encodeURIComponent(sku)}`);
    if (res.status === 404) throw new NotFoundException(`Unknown product "${sku}"`);
    if (!res.ok) throw new ServiceUnavailableException('Inventory is unavailable');
    return (await res.json()) as StockItem;
  }

  @Trace()
  async reserve(@SpanAttr('product.sku') sku: string, quantity: number): Promise<{ left: number }> {
    try {
      const res = await firstValueFrom(
        this.http.post(`${this.baseUrl}/stock/${encodeURIComponent(sku)}/reservations`, { quantity }),
      );
      return res.data as { left: number };
    } catch (error) {
      if (isAxiosError(error) && error.response?.status === 409) throw new ConflictException(error.response.data);
      throw error;
    }
  }

  @Trace()
  async dailyReport(): Promise<unknown> {
    const res = await firstValueFrom(this.http.get(`${this.baseUrl}/reports/daily`));
    return res.data;
  }
}
