import { HttpModule } from '@nestjs/axios';
import { Module, ValidationPipe } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_PIPE } from '@nestjs/core';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { configAndTracing } from '../shared/tracing-options.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { InventoryClient } from './inventory.client.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService, PRICING } from './orders.service.js';
import { StockWatchGateway } from './stock-watch.gateway.js';

@Module({
  imports: [
    ...configAndTracing('gateway'),
    HttpModule.register({ timeout: 2000 }),
    ClientsModule.registerAsync([
      {
        name: PRICING,
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          transport: Transport.TCP,
          options: { host: '127.0.0.1', port: Number(config.get('PRICING_PORT', 3002)) },
        }),
      },
    ]),
  ],
  controllers: [OrdersController],
  providers: [
    OrdersService,
    StockWatchGateway,
    InventoryClient,
    ApiKeyGuard,
    {
      provide: APP_PIPE,
      useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
    },
  ],
})
export class GatewayModule {}
