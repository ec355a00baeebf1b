import { Module } from '@nestjs/common';
import { configAndTracing } from '../shared/tracing-options.js';
import { PricingController } from './pricing.controller.js';
import { PricingService } from './pricing.service.js';

// no @Trace() in this service: `providers: true` gives every PricingService method its span
@Module({
  imports: [...configAndTracing('pricing', () => ({ autoTrace: { providers: true } }))],
  controllers: [PricingController],
  providers: [PricingService],
})
export class PricingModule {}
