import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { PricingService } from './pricing.service.js';

export interface QuoteRequest {
  sku: string;
  quantity: number;
}

@Controller()
export class PricingController {
  constructor(private readonly pricing: PricingService) {}

  @MessagePattern('price.quote')
  quote(@Payload() request: QuoteRequest) {
    return this.pricing.quote(request.sku, request.quantity);
  }
}
