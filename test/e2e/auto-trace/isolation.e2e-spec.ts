import 'reflect-metadata';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type INestApplication,
  type INestMicroservice,
  type OnModuleInit,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { lastValueFrom } from 'rxjs';
import request from 'supertest';
import type { TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { listen } from '../../support/platforms.js';
import { freePort } from '../../support/ports.js';
import { CatalogService, ShopController, ShopModule } from './shop-app.js';

const untraced = { item: ShopController.prototype.item, find: CatalogService.prototype.find };

async function shop(options?: TracingModuleOptions) {
  const imports = options
    ? [TracingTestingModule.forRoot({ serviceName: 'shop', ...options }), ShopModule]
    : [ShopModule];
  const app = await listen(await Test.createTestingModule({ imports }).compile(), 'express');
  return { app, recorder: options ? app.get(SpanRecorder) : undefined };
}

const get = (app: INestApplication, id: number) =>
  request(app.getHttpServer())
    .get(`/shop/items/${id}`)
    .set('x-key', 'open-sesame')
    .expect(203, { id, price: id * 100 });

describe('automatic spans across apps in one process', () => {
  it('wraps one app without changing another, and puts the classes back when the last app closes', async () => {
    const a = await shop({ autoTrace: { providers: true } });
    const b = await shop({ autoTrace: false });
    const plain = await shop();
    await Promise.all([get(a.app, 1), get(b.app, 2), get(plain.app, 3), get(a.app, 4), get(b.app, 5)]);
    const aNames = a.recorder!.spans().map((s) => s.name);
    expect(aNames.filter((n) => n === 'ShopController.item')).toHaveLength(2);
    expect(aNames.filter((n) => n === 'CatalogService.find')).toHaveLength(2);
    expect(b.recorder!.spans().map((s) => s.name)).toEqual(['GET /shop/items/:id', 'GET /shop/items/:id']);
    expect(ShopController.prototype.item).not.toBe(untraced.item);
    await plain.app.close();
    await b.app.close();
    await a.app.close();
    expect(ShopController.prototype.item).toBe(untraced.item);
    expect(CatalogService.prototype.find).toBe(untraced.find);
  });

  it('never lets a tracer that throws reach the app', async () => {
    const throwing: SpanProcessor = {
      onStart: () => {
        throw new Error('processor is broken');
      },
      onEnd: () => undefined,
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const { app } = await shop({ autoTrace: { providers: true }, spanProcessors: [throwing] });
    await Promise.all([get(app, 1), get(app, 2)]);
    await request(app.getHttpServer()).get('/shop/sold-out').expect(409);
    await app.close();
  });
});

@Injectable()
class Clock implements OnModuleInit {
  started = false;
  onModuleInit() {
    this.started = true;
  }
  get now() {
    return 42;
  }
  tick() {
    return this.now;
  }
}

/** Made by a factory: its class is known only once the factory ran. */
class Calendar {
  today() {
    return 'monday';
  }
}

@Controller('clock')
class ClockController {
  constructor(
    private readonly clock: Clock,
    private readonly config: ConfigService,
    @Inject('CALENDAR') private readonly calendar: Calendar,
  ) {}
  @Get()
  read() {
    this.clock.onModuleInit();
    return { tick: this.clock.tick(), zone: this.config.get<string>('TZ_NAME', 'UTC'), day: this.calendar.today() };
  }
}

@Module({
  imports: [ConfigModule.forRoot({ ignoreEnvFile: true })],
  controllers: [ClockController],
  providers: [Clock, { provide: 'CALENDAR', useFactory: () => new Calendar() }],
})
class ClockModule {}

describe('which provider methods get a span', () => {
  const boot = async (providers: NonNullable<TracingModuleOptions['autoTrace']>) => {
    const moduleRef = await Test.createTestingModule({
      imports: [TracingTestingModule.forRoot({ serviceName: 'clock', autoTrace: providers }), ClockModule],
    }).compile();
    const app = await listen(moduleRef, 'express');
    await request(app.getHttpServer()).get('/clock').expect(200, { tick: 42, zone: 'UTC', day: 'monday' });
    const names = app
      .get(SpanRecorder)
      .spans()
      .map((s) => s.name);
    await app.close();
    return names;
  };

  it("traces the app's own methods, not lifecycle hooks, getters, nor providers of packages", async () => {
    const names = await boot({ providers: true });
    expect(names.sort()).toEqual(['Calendar.today', 'ClockController.read', 'Clock.tick', 'GET /clock'].sort());
  });

  it('asks a function about every method, packages included', async () => {
    const names = await boot({ providers: (provider, method) => provider === ConfigService && method === 'get' });
    expect(names.sort()).toEqual(['ClockController.read', 'ConfigService.get', 'GET /clock'].sort());
  });
});

@Injectable()
class OnlyAdults implements CanActivate {
  canActivate() {
    return true;
  }
}

@Controller()
class MathController {
  @MessagePattern('math.sum')
  @UseGuards(OnlyAdults)
  sum(@Payload() numbers: number[]) {
    return numbers.reduce((a, b) => a + b, 0);
  }
}

describe('message handlers of a standalone microservice', () => {
  let worker: INestMicroservice;
  let client: ClientProxy;
  afterAll(async () => {
    await client?.close();
    await worker?.close();
  });

  it('gets handler and guard spans beneath the message SERVER span', async () => {
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({
      imports: [TracingTestingModule.forRoot({ serviceName: 'math' })],
      controllers: [MathController],
      providers: [OnlyAdults],
    }).compile();
    worker = moduleRef.createNestMicroservice({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await worker.listen();
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    expect(await lastValueFrom(client.send<number>('math.sum', [1, 2, 3]))).toBe(6);
    const recorder = worker.get(SpanRecorder);
    await until(() => recorder.spans().some((s) => s.name === 'process math.sum'));
    const server = recorder.find('process math.sum');
    for (const name of ['MathController.sum', 'OnlyAdults.canActivate']) {
      expect(recorder.find(name).parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    }
    expect(recorder.find('MathController.sum').attributes).toMatchObject({
      'nestjs.type': 'handler',
      'nestjs.controller': 'MathController',
      'nestjs.callback': 'sum',
    });
  });
});

/** Waits for a condition the app reaches by itself (the server span ends after the reply is written). */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
