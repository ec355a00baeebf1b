import 'reflect-metadata';
import {
  Catch,
  Controller,
  Get,
  HttpCode,
  Injectable,
  Module,
  Param,
  ParseIntPipe,
  SetMetadata,
  UseFilters,
  UseGuards,
  type CanActivate,
  type ExceptionFilter,
  type ArgumentsHost,
  type CallHandler,
  type ExecutionContext,
  type MiddlewareConsumer,
  type NestInterceptor,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost, Reflector } from '@nestjs/core';
import { tap } from 'rxjs';

/*
 * The app of the example: middleware, a guard reading @SetMetadata, an interceptor,
 * a parameter pipe, a handler and two providers, plus a filter for the route that fails.
 */

export const KEY = 'shop:key';
export class OutOfStock extends Error {}

@Injectable()
export class PriceService {
  price(id: number) {
    return id * 100;
  }
}

@Injectable()
export class CatalogService {
  constructor(private readonly prices: PriceService) {}
  async find(id: number) {
    await new Promise((resolve) => setImmediate(resolve));
    return { id, price: this.prices.price(id) };
  }
}

@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  use(req: { headers: Record<string, unknown> }, _res: unknown, next: () => void) {
    req.headers['x-request-id'] ??= 'generated';
    next();
  }
}

@Injectable()
export class KeyGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(ctx: ExecutionContext): boolean {
    const needed = this.reflector.get<string | undefined>(KEY, ctx.getHandler());
    return (
      needed === undefined ||
      ctx.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers['x-key'] === needed
    );
  }
}

@Injectable()
export class TimingInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler) {
    const started = process.hrtime.bigint();
    return next.handle().pipe(tap(() => process.hrtime.bigint() - started));
  }
}

@Catch(OutOfStock)
@Injectable()
export class ShopFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: OutOfStock, host: ArgumentsHost) {
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { error: error.message }, 409);
  }
}

@Controller('shop')
@UseGuards(KeyGuard)
@UseFilters(ShopFilter)
export class ShopController {
  constructor(private readonly catalog: CatalogService) {}

  @Get('items/:id')
  @SetMetadata(KEY, 'open-sesame')
  @HttpCode(203)
  item(@Param('id', ParseIntPipe) id: number) {
    return this.catalog.find(id);
  }

  @Get('sold-out')
  soldOut(): never {
    throw new OutOfStock('sold out');
  }
}

@Module({
  controllers: [ShopController],
  providers: [CatalogService, PriceService, KeyGuard, { provide: APP_INTERCEPTOR, useClass: TimingInterceptor }],
})
export class ShopModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(RequestIdMiddleware).forRoutes(ShopController);
  }
}
