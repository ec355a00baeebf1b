import { Module } from '@nestjs/common';
import { configAndTracing } from '../shared/tracing-options.js';
import { StockController } from './stock.controller.js';
import { StockRepository } from './stock.repository.js';
import { StockService } from './stock.service.js';

@Module({
  imports: [...configAndTracing('inventory')],
  controllers: [StockController],
  providers: [StockService, StockRepository],
})
export class InventoryModule {}
