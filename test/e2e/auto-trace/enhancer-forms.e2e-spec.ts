import 'reflect-metadata';
import {
  Catch,
  Controller,
  Get,
  HttpException,
  Injectable,
  Module,
  Param,
  Query,
  Scope,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type MiddlewareConsumer,
  type NestInterceptor,
  type NestModule,
  type PipeTransform,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE, HttpAdapterHost } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { NoTrace, Trace, type TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { PLATFORMS, type Platform } from '../../support/platforms.js';

class UpperPipe implements PipeTransform {
  transform(value: unknown) {
    return typeof value === 'string' ? value.toUpperCase() : value;
  }
}
class TrimPipe implements PipeTransform {
  transform(value: unknown) {
    return typeof value === 'string' ? value.trim() : value;
  }
}
@Injectable()
class AppGuard implements CanActivate {
  canActivate() {
    return true;
  }
}
class OpenGuard implements CanActivate {
  canActivate() {
    return true;
  }
}
@Injectable({ scope: Scope.REQUEST })
class ScopedGuard implements CanActivate {
  canActivate() {
    return true;
  }
}
@NoTrace()
@Injectable()
class QuietGuard implements CanActivate {
  canActivate() {
    return true;
  }
}
@Injectable()
class LogInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}
@Injectable()
class HiddenInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}
@Catch(HttpException)
class TeapotFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: HttpException, host: ArgumentsHost) {
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { caught: error.getStatus() }, 418);
  }
}
@Injectable({ scope: Scope.REQUEST })
class ScopedStore {
  @Trace()
  read() {
    return 'explicit';
  }
  write() {
    return 'automatic';
  }
}

/** Listed as a provider too: providers: true must leave its `use` to the middleware span. */
@Injectable()
class StampMiddleware {
  use(_req: unknown, _res: unknown, next: () => void) {
    next();
  }
}

function poweredBy(_req: unknown, res: { setHeader(k: string, v: string): void }, next: () => void) {
  res.setHeader('x-powered-by', 'shop');
  next();
}
function answersItself(_req: unknown, res: { statusCode: number; end(body: string): void }) {
  res.statusCode = 200;
  res.end('from middleware');
}
function refuses(_req: unknown, _res: unknown, next: (error?: unknown) => void) {
  next(new Error('middleware refused'));
}

@Controller('forms')
@UseGuards(ScopedGuard, QuietGuard)
class FormsController {
  constructor(private readonly store: ScopedStore) {}

  @Get('echo/:word')
  @UsePipes(new UpperPipe())
  @UseInterceptors(LogInterceptor, HiddenInterceptor)
  echo(@Param('word', TrimPipe) word: string, @Query('n') _n?: string) {
    return { word, read: this.store.read(), write: this.store.write() };
  }

  @Get('missing')
  missing() {
    throw new HttpException('gone', 410);
  }

  @Get('answered')
  answered() {
    return 'not reached';
  }

  @Get('refused')
  refused() {
    return 'not reached';
  }
}

@Module({
  controllers: [FormsController],
  providers: [
    StampMiddleware,
    ScopedGuard,
    QuietGuard,
    ScopedStore,
    { provide: APP_GUARD, useClass: AppGuard },
    { provide: APP_PIPE, useFactory: () => new TrimPipe() },
    {
      provide: APP_FILTER,
      inject: [HttpAdapterHost],
      useFactory: (h: HttpAdapterHost) => new TeapotFilter(h),
    },
  ],
})
class FormsModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(poweredBy, StampMiddleware).forRoutes(FormsController);
    consumer.apply(answersItself).forRoutes('forms/answered').apply(refuses).forRoutes('forms/refused');
  }
}

async function boot(platform: Platform, options: TracingModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'forms', ...options }), FormsModule],
  }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    logger: false,
  });
  app.useGlobalPipes(new ValidationPipe());
  app.useGlobalGuards(new OpenGuard());
  await app.listen(0, '127.0.0.1');
  return { app, recorder: app.get(SpanRecorder) };
}

describe.each(PLATFORMS)('enhancers and middleware in every form (%s)', (platform) => {
  let app: INestApplication;
  let recorder: SpanRecorder;
  afterEach(() => app?.close());

  it('traces class, instance, global, APP_* and request-scoped enhancers, and functional middleware', async () => {
    ({ app, recorder } = await boot(platform, {
      autoTrace: { providers: true, exclude: [HiddenInterceptor] },
    }));
    const res = await request(app.getHttpServer()).get('/forms/echo/%20hi%20').expect(200);
    expect(res.body).toEqual({ word: 'HI', read: 'explicit', write: 'automatic' });
    expect(res.headers['x-powered-by']).toBe('shop');
    const names = recorder.spans().map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'poweredBy', // functional middleware, named after the function
        'OpenGuard.canActivate', // app.useGlobalGuards(new OpenGuard())
        'AppGuard.canActivate', // APP_GUARD useClass
        'ScopedGuard.canActivate', // request-scoped, @UseGuards(Class)
        'LogInterceptor.intercept', // @UseInterceptors(Class)
        'ValidationPipe.transform', // app.useGlobalPipes(new ValidationPipe())
        'TrimPipe.transform', // APP_PIPE useFactory and a parameter pipe class
        'UpperPipe.transform', // @UsePipes(new UpperPipe())
        'FormsController.echo',
        'ScopedStore.read', // @Trace wins: one span
        'ScopedStore.write', // request-scoped provider, providers: true
      ]),
    );
    expect(recorder.find('poweredBy').attributes).toMatchObject({ 'nestjs.type': 'middleware' });
    const server = recorder.find('GET /forms/echo/:word').spanContext().spanId;
    expect(recorder.find('StampMiddleware.use').attributes['nestjs.type']).toBe('middleware');
    expect(recorder.find('ScopedGuard.canActivate').parentSpanContext?.spanId).toBe(server);
    expect(names.filter((n) => n === 'ScopedStore.read')).toHaveLength(1);
    expect(recorder.find('ScopedStore.read').attributes['nestjs.type']).toBeUndefined();
    expect(names).not.toContain('QuietGuard.canActivate'); // @NoTrace on the class
    expect(names).not.toContain('HiddenInterceptor.intercept'); // exclude
    expect(recorder.find('ScopedStore.write').parentSpanContext?.spanId).toBe(
      recorder.find('FormsController.echo').spanContext().spanId,
    );
  });

  it('shows an APP_FILTER instance handling an HttpException; a 4xx is not an error of the handler', async () => {
    ({ app, recorder } = await boot(platform));
    await request(app.getHttpServer()).get('/forms/missing').expect(418, { caught: 410 });
    expect(recorder.find('TeapotFilter.catch').attributes['nestjs.type']).toBe('filter');
    const handler = recorder.find('FormsController.missing');
    expect(handler.status.code).toBe(0);
    expect(handler.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('ends a middleware span when it answers itself, and fails it when it passes an error to next()', async () => {
    ({ app, recorder } = await boot(platform));
    await request(app.getHttpServer()).get('/forms/answered').expect(200, 'from middleware');
    await request(app.getHttpServer()).get('/forms/refused').expect(500);
    const answered = recorder.find('answersItself');
    expect(answered.ended).toBe(true);
    expect(recorder.find('refuses').attributes['error.type']).toBe('Error');
    expect(recorder.spans().map((s) => s.name)).not.toContain('FormsController.refused');
  });

  it('leaves enhancers alone with enhancers: false, and middleware with middleware: false', async () => {
    ({ app, recorder } = await boot(platform, { autoTrace: { enhancers: false, middleware: false } }));
    await request(app.getHttpServer()).get('/forms/echo/hi').expect(200);
    expect(
      recorder
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['FormsController.echo', 'GET /forms/echo/:word', 'ScopedStore.read']);
  });
});
