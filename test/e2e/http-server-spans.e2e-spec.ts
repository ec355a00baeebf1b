import 'reflect-metadata';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Injectable,
  Param,
  ParseIntPipe,
  Post,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import http from 'node:http';
import request from 'supertest';
import { Observable } from 'rxjs';
import { SpanAttr, Trace } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { byName, childrenOf, parentId, spanId, traceId } from '../support/memory-tracing.js';
import { listen, PLATFORMS } from '../support/platforms.js';

const ROLE = 'role';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
class RoleGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(ctx: ExecutionContext): boolean {
    const role = this.reflector.get<string>(ROLE, ctx.getHandler());
    return ctx.switchToHttp().getRequest().headers['x-role'] === role;
  }
}

@Injectable()
class OrdersService {
  @Trace()
  async find(@SpanAttr('order.id') id: number) {
    await sleep(2);
    return { id, total: this.price(id) };
  }

  @Trace()
  price(id: number) {
    return id * 10;
  }
}

@Controller('orders')
class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get(':id')
  find(@Param('id', ParseIntPipe) id: number) {
    return this.orders.find(id);
  }

  @Post()
  @HttpCode(202)
  create(@Body() body: { id: number }) {
    return this.orders.find(body.id);
  }

  @Trace()
  @Get('broken/always')
  broken(): never {
    throw new Error('database is on fire');
  }

  @Get('invalid/input')
  invalid(): never {
    throw new BadRequestException('nope');
  }

  @Trace()
  @SetMetadata(ROLE, 'admin')
  @UseGuards(RoleGuard)
  @HttpCode(201)
  @Get('admin/report')
  report() {
    return { ok: true };
  }

  @Get('rx/count')
  count(): Observable<number> {
    return new Observable((s) => {
      setTimeout(() => {
        s.next(this.orders.price(3));
        s.complete();
      }, 5);
    });
  }

  @Get('health/live')
  health() {
    return 'ok';
  }
}

describe.each(PLATFORMS)('HTTP server spans on %s', (platform) => {
  let app: INestApplication;
  const spans = async () => app.get(SpanRecorder).spans();

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TracingTestingModule.forRoot({ serviceName: 'orders', ignore: ['/orders/health/live'], autoTrace: false }),
      ],
      controllers: [OrdersController],
      providers: [OrdersService, RoleGuard],
    }).compile();
    app = await listen(moduleRef, platform);
  });
  afterAll(() => app.close());
  beforeEach(() => app.get(SpanRecorder).reset());

  it('gives a request a SERVER span named by its route, with the handler work beneath it', async () => {
    const res = await request(app.getHttpServer()).get('/orders/7?x=1').set('user-agent', 'jest');
    expect(res.status).toBe(200);
    const all = await spans();
    const server = byName(all, 'GET /orders/:id');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(parentId(server)).toBeUndefined();
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/orders/:id',
      'url.path': '/orders/7',
      'url.scheme': 'http',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
      'user_agent.original': 'jest',
    });
    expect(server.attributes['server.port']).toBe(app.getHttpServer().address().port);
    expect(String(server.attributes['client.address'])).toMatch(/127\.0\.0\.1/);
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    const find = byName(all, 'OrdersService.find');
    expect(parentId(find)).toBe(spanId(server));
    expect(find.attributes['order.id']).toBe(7);
    const price = byName(all, 'OrdersService.price');
    expect(parentId(price)).toBe(spanId(find));
    expect(new Set(all.map(traceId)).size).toBe(1);
    expect(server.resource.attributes['service.name']).toBe('orders');
  });

  it('continues an incoming W3C traceparent', async () => {
    const incomingTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await request(app.getHttpServer()).get('/orders/1').set('traceparent', `00-${incomingTrace}-00f067aa0ba902b7-01`);
    const server = byName(await spans(), 'GET /orders/:id');
    expect(traceId(server)).toBe(incomingTrace);
    expect(parentId(server)).toBe('00f067aa0ba902b7');
  });

  it('starts a fresh root for a malformed traceparent and still serves the request', async () => {
    const res = await request(app.getHttpServer())
      .get('/orders/1')
      .set('traceparent', 'zz-garbage-' + 'x'.repeat(5000));
    expect(res.status).toBe(200);
    const server = byName(await spans(), 'GET /orders/:id');
    expect(parentId(server)).toBeUndefined();
  });

  it('nests handler spans under the server span after a JSON body is parsed', async () => {
    const res = await request(app.getHttpServer()).post('/orders').send({ id: 5 });
    expect(res.status).toBe(202);
    const all = await spans();
    const server = byName(all, 'POST /orders');
    expect(parentId(byName(all, 'OrdersService.find'))).toBe(spanId(server));
    expect(server.attributes['http.response.status_code']).toBe(202);
  });

  it('keeps the request context when the body arrives in a later packet', async () => {
    const { port } = app.getHttpServer().address();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/orders',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"id":');
      setTimeout(() => req.end('9}'), 30);
    });
    expect(status).toBe(202);
    const all = await spans();
    const find = byName(all, 'OrdersService.find');
    expect(find.attributes['order.id']).toBe(9);
    expect(parentId(find)).toBe(spanId(byName(all, 'POST /orders')));
  });

  it('marks 5xx as ERROR with error.type, and records the exception on the handler span', async () => {
    const res = await request(app.getHttpServer()).get('/orders/broken/always');
    expect(res.status).toBe(500);
    const all = await spans();
    const server = byName(all, 'GET /orders/broken/always');
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.attributes['error.type']).toBe('500');
    const handler = byName(all, 'OrdersController.broken');
    expect(parentId(handler)).toBe(spanId(server));
    expect(handler.status).toEqual({ code: SpanStatusCode.ERROR, message: 'database is on fire' });
    const event = handler.events.find((e) => e.name === 'exception');
    expect(event?.attributes).toMatchObject({ 'exception.type': 'Error', 'exception.message': 'database is on fire' });
    expect(String(event?.attributes?.['exception.stacktrace'])).toContain('broken');
  });

  it('does not mark 4xx as an error', async () => {
    expect((await request(app.getHttpServer()).get('/orders/invalid/input')).status).toBe(400);
    expect((await request(app.getHttpServer()).get('/nowhere')).status).toBe(404);
    const all = await spans();
    const invalid = byName(all, 'GET /orders/invalid/input');
    expect(invalid.status.code).toBe(SpanStatusCode.UNSET);
    expect(invalid.attributes['http.response.status_code']).toBe(400);
    const notFound = all.find((s) => s.attributes['url.path'] === '/nowhere');
    expect(notFound?.name).toBe('GET');
    expect(notFound?.attributes['http.route']).toBeUndefined();
    expect(notFound?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('traces requests a guard rejects, and keeps guards and @HttpCode working on traced handlers', async () => {
    expect((await request(app.getHttpServer()).get('/orders/admin/report')).status).toBe(403);
    const allowed = await request(app.getHttpServer()).get('/orders/admin/report').set('x-role', 'admin');
    expect(allowed.status).toBe(201);
    const servers = (await spans()).filter((s) => s.name === 'GET /orders/admin/report');
    expect(servers.map((s) => s.attributes['http.response.status_code']).sort()).toEqual([201, 403]);
  });

  it('ends the span of an Observable response after it completes, with its work beneath', async () => {
    const res = await request(app.getHttpServer()).get('/orders/rx/count');
    expect(res.status).toBe(200);
    const all = await spans();
    const server = byName(all, 'GET /orders/rx/count');
    expect(parentId(byName(all, 'OrdersService.price'))).toBe(spanId(server));
  });

  it('leaves ignored routes untraced', async () => {
    expect((await request(app.getHttpServer()).get('/orders/health/live')).status).toBe(200);
    expect(await spans()).toEqual([]);
  });

  it('keeps 50 concurrent requests in 50 separate traces, each with its own children', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => i + 100);
    const results = await Promise.all(ids.map((id) => request(app.getHttpServer()).get(`/orders/${id}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const all = await spans();
    const servers = all.filter((s) => s.name === 'GET /orders/:id');
    expect(servers).toHaveLength(50);
    expect(new Set(servers.map(traceId)).size).toBe(50);
    for (const server of servers) {
      const [find] = childrenOf(all, server);
      expect(find?.name).toBe('OrdersService.find');
      expect(find?.attributes['order.id']).toBe(Number(String(server.attributes['url.path']).split('/').pop()));
      expect(childrenOf(all, find!).map((s) => s.name)).toEqual(['OrdersService.price']);
    }
  });
});
