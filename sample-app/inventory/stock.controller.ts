import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post } from '@nestjs/common';
import { StockService } from './stock.service.js';

@Controller()
export class StockController {
  constructor(private readonly stock: StockService) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('stock/:sku')
  find(@Param('sku') sku: string) {
    return this.stock.find(sku);
  }

  @Post('stock/:sku/reservations')
  @HttpCode(201)
  reserve(@Param('sku') sku: string, @Body('quantity', ParseIntPipe) quantity: number) {
    return this.stock.reserve(sku, quantity);
  }

  @Get('reports/daily')
  report() {
    return this.stock.dailyReport();
  }
}
