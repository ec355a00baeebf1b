import { HttpModule } from '@nestjs/axios';
import { Module, ValidationPipe } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_PIPE } from '@nestjs/core';
import { TracingModule } from '../../lib/index.js';
import { tracingOptionsFrom } from '../shared/tracing-options.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { InventoryClient } from './inventory.client.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    TracingModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => tracingOptionsFrom(config, 'gateway'),
    }),
    HttpModule.register({ timeout: 2000 }),
  ],
  controllers: [OrdersController],
  providers: [
    OrdersService,
    InventoryClient,
    ApiKeyGuard,
    { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
  ],
})
export class GatewayModule {}
