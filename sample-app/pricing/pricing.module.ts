import { Module } from '@nestjs/common';
import { configAndTracing } from '../shared/tracing-options.js';
import { PricingController } from './pricing.controller.js';
import { PricingService } from './pricing.service.js';

@Module({
  imports: [...configAndTracing('pricing')],
  controllers: [PricingController],
  providers: [PricingService],
})
export class PricingModule {}
