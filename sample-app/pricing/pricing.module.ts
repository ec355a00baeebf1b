import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TracingModule } from '../../lib/index.js';
import { tracingOptionsFrom } from '../shared/tracing-options.js';
import { PricingController } from './pricing.controller.js';
import { PricingService } from './pricing.service.js';

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    TracingModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => tracingOptionsFrom(config, 'pricing'),
    }),
  ],
  controllers: [PricingController],
  providers: [PricingService],
})
export class PricingModule {}
