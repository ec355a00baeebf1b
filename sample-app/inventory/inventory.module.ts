import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { configAndTracing } from '../shared/tracing-options.js';
import { StockController } from './stock.controller.js';
import { StockDatabase } from './stock.database.js';
import { StockRepository } from './stock.repository.js';
import { StockService } from './stock.service.js';

@Module({
  // a span per SQL query, from the pg driver this ESM app has already loaded: no --import preload
  imports: [...configAndTracing('inventory', () => ({ instrumentations: [new PgInstrumentation()] }))],
  controllers: [StockController],
  providers: [
    StockService,
    StockRepository,
    {
      provide: StockDatabase,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => StockDatabase.open(config.get<string>('DATABASE_URL')),
    },
  ],
})
export class InventoryModule {}
