import { Body, Controller, Get, Param, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from './api-key.guard.js';
import { CreateOrderDto } from './create-order.dto.js';
import { OrdersService } from './orders.service.js';

@Controller()
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('products/:sku')
  product(@Param('sku') sku: string) {
    return this.orders.product(sku);
  }

  @Get('products/:sku/delivery')
  delivery(@Param('sku') sku: string) {
    return this.orders.deliveryQuotes(sku);
  }

  @Post('orders')
  @UseGuards(ApiKeyGuard)
  place(@Body() order: CreateOrderDto) {
    return this.orders.place(order);
  }

  @Get('orders/:id/invoice')
  invoice(@Param('id') id: string) {
    return this.orders.invoice(id);
  }

  @Get('reports/daily')
  report() {
    return this.orders.dailyReport();
  }
}
