import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TracingModule } from '../../lib/index.js';
import { tracingOptionsFrom } from '../shared/tracing-options.js';
import { StockController } from './stock.controller.js';
import { StockRepository } from './stock.repository.js';
import { StockService } from './stock.service.js';

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    TracingModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => tracingOptionsFrom(config, 'inventory'),
    }),
  ],
  controllers: [StockController],
  providers: [StockService, StockRepository],
})
export class InventoryModule {}
