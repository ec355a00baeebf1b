import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  Injectable,
  Param,
  Scope,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { SpanStatusCode } from '@opentelemetry/api';
import request from 'supertest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { NoTrace, Trace, TraceService, TracingModule, type TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { listen, PLATFORMS } from '../../support/platforms.js';

const ROLE = 'role';

@Injectable()
class RoleGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(ctx: ExecutionContext): boolean {
    // reads @SetMetadata from the handler Nest captured: the automatic wrapper must carry it
    return this.reflector.get<string>(ROLE, ctx.getHandler()) === 'reader';
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestCounter {
  readonly id = Math.random();
}

class BaseController {
  @Get('base/inherited')
  inherited() {
    return { from: 'base' };
  }
}

@Controller('items')
class ItemsController extends BaseController {
  @Get(':id')
  @HttpCode(203)
  @SetMetadata(ROLE, 'reader')
  @UseGuards(RoleGuard)
  item(@Param('id') id: string) {
    return { id };
  }

  @Get('broken/always')
  broken(): never {
    throw new Error('handler failed');
  }

  @Trace('explicit.span')
  @Get('explicit/one')
  explicit() {
    return { explicit: true };
  }

  @NoTrace()
  @Get('quiet/one')
  quiet() {
    return { quiet: true };
  }

  helper() {
    return 'not a route';
  }
}

@NoTrace()
@Controller('silent')
class SilentController {
  @Get()
  get() {
    return { silent: true };
  }
}

@Controller('scoped')
class ScopedController {
  constructor(private readonly counter: RequestCounter) {}
  @Get()
  get() {
    return { id: this.counter.id };
  }
}

async function boot(platform: (typeof PLATFORMS)[number], options: TracingModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'auto', ...options })],
    controllers: [ItemsController, SilentController, ScopedController],
    providers: [RoleGuard, RequestCounter],
  }).compile();
  const app = await listen(moduleRef, platform);
  return { app, recorder: app.get(SpanRecorder) };
}

describe.each(PLATFORMS)('automatic handler spans (%s)', (platform) => {
  let app: INestApplication;
  let recorder: SpanRecorder;

  afterEach(async () => {
    await app?.close();
  });

  it('puts a handler span beneath the server span, named and attributed like @Trace, metadata intact', async () => {
    ({ app, recorder } = await boot(platform, { autoTrace: { enhancers: false } }));
    await request(app.getHttpServer()).get('/items/7').expect(203, { id: '7' });
    const server = recorder.find('GET /items/:id');
    const handler = recorder.find('ItemsController.item');
    expect(handler.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(handler.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(handler.attributes).toEqual({
      'code.function.name': 'ItemsController.item',
      'nestjs.type': 'handler',
      'nestjs.controller': 'ItemsController',
      'nestjs.callback': 'item',
    });
    expect(recorder.spans().map((s) => s.name)).not.toContain('ItemsController.helper');
  });

  it('records a failing handler as an error and still answers 500', async () => {
    ({ app, recorder } = await boot(platform));
    await request(app.getHttpServer()).get('/items/broken/always').expect(500);
    const handler = recorder.find('ItemsController.broken');
    expect(handler.status.code).toBe(SpanStatusCode.ERROR);
    expect(handler.attributes['error.type']).toBe('Error');
    expect(handler.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('names an inherited handler after the controller, and handles request-scoped controllers', async () => {
    ({ app, recorder } = await boot(platform));
    await request(app.getHttpServer()).get('/items/base/inherited').expect(200, { from: 'base' });
    await request(app.getHttpServer()).get('/scoped').expect(200);
    expect(recorder.findAll('ItemsController.inherited')).toHaveLength(1);
    expect(recorder.findAll('ScopedController.get')).toHaveLength(1);
    expect(recorder.find('ScopedController.get').parentSpanContext?.spanId).toBe(
      recorder.find('GET /scoped').spanContext().spanId,
    );
  });

  it('lets @Trace win (one span) and leaves @NoTrace classes and methods, exclude and autoTrace: false alone', async () => {
    ({ app, recorder } = await boot(platform, { autoTrace: { exclude: [/^Scoped/] } }));
    const http = request(app.getHttpServer());
    await http.get('/items/explicit/one').expect(200);
    await http.get('/items/quiet/one').expect(200);
    await http.get('/silent').expect(200);
    await http.get('/scoped').expect(200);
    const names = recorder.spans().map((s) => s.name);
    expect(names.filter((n) => n.includes('explicit') && !n.startsWith('GET'))).toEqual(['explicit.span']);
    expect(names).toEqual(expect.arrayContaining(['GET /items/quiet/one', 'GET /silent', 'GET /scoped']));
    expect(names.filter((n) => /Controller\./.test(n))).toEqual([]);
    await app.close();

    ({ app, recorder } = await boot(platform, { autoTrace: false }));
    await request(app.getHttpServer()).get('/items/7').expect(203);
    expect(recorder.spans().map((s) => s.name)).toEqual(['GET /items/:id']);
  });

  it('takes autoTrace from forRootAsync as from forRoot (here excluding a class by name)', async () => {
    const exporter = new InMemorySpanExporter();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TracingModule.forRootAsync({
          useFactory: async () => ({ serviceName: 'async', exporter, autoTrace: { exclude: ['ItemsController'] } }),
        }),
      ],
      controllers: [ItemsController, ScopedController],
      providers: [RoleGuard, RequestCounter],
    }).compile();
    app = await listen(moduleRef, platform);
    await request(app.getHttpServer()).get('/items/7').expect(203);
    await request(app.getHttpServer()).get('/scoped').expect(200);
    await app.get(TraceService).forceFlush();
    const names = exporter.getFinishedSpans().map((s) => s.name);
    expect(names).toContain('ScopedController.get');
    expect(names).not.toContain('ItemsController.item');
  });
});
