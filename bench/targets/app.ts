/**
 * The app every macro target serves: one route, `GET /orders/:id`, whose handler calls
 * `OrdersService.find` (async), which calls `OrdersService.price` (sync). Targets differ
 * only in the service class they register (decorated or not) and the modules they add.
 */
import 'reflect-metadata';
import { Controller, Get, Inject, Module, Param, type DynamicModule, type Type } from '@nestjs/common';

export const ORDERS = Symbol('orders');

export interface Order {
  id: string;
  total: number;
}

export interface Orders {
  find(id: string): Promise<Order>;
}

@Controller('orders')
export class OrdersController {
  constructor(@Inject(ORDERS) private readonly orders: Orders) {}

  @Get(':id')
  find(@Param('id') id: string): Promise<Order> {
    return this.orders.find(id);
  }
}

/** The untraced service; traced targets declare the same two methods with their decorators. */
export class PlainOrdersService implements Orders {
  async find(id: string): Promise<Order> {
    return { id, total: this.price(id) };
  }

  price(id: string): number {
    return id.length * 10;
  }
}

export function appModule(service: Type<Orders>, imports: Array<Type | DynamicModule> = []): Type {
  @Module({ imports, controllers: [OrdersController], providers: [{ provide: ORDERS, useClass: service }] })
  class BenchAppModule {}
  return BenchAppModule;
}
