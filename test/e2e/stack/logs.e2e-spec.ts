import 'reflect-metadata';
import { Controller, Get, Logger, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import winston from 'winston';
import { Trace, traceLogFields, TracingLogger } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { PLATFORMS, type Platform } from '../../support/platforms.js';

/** Every line written to it, as text. */
class Lines extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _: string, done: () => void) {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  }
  json(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

const pinoOut = new Lines();
const winstonOut = new Lines();
// the README's recipes, verbatim but for the destination
const pinoLogger = pino({ mixin: traceLogFields }, pinoOut);
const winstonLogger = winston.createLogger({
  format: winston.format.combine(
    winston.format((info) => Object.assign(info, traceLogFields()))(),
    winston.format.json(),
  ),
  transports: [new winston.transports.Stream({ stream: winstonOut })],
});

@Controller('log')
class LogController {
  private readonly logger = new Logger('Orders');

  @Get('nest')
  @Trace('log with Nest')
  nest() {
    this.logger.log('placing order');
    return {};
  }

  @Get('pino')
  @Trace('log with pino')
  pino() {
    pinoLogger.info('placing order');
    return {};
  }

  @Get('winston')
  @Trace('log with winston')
  winston() {
    winstonLogger.info('placing order');
    return {};
  }
}

@Controller('pino-http')
class PinoController {
  constructor(private readonly logger: PinoLogger) {}
  @Get()
  handle() {
    this.logger.info('placing order');
    return {};
  }
}

// nestjs-pino keeps one root logger per process: one module (and destination) for every test
const httpOut = new Lines();
@Module({
  imports: [LoggerModule.forRoot({ pinoHttp: [{ mixin: traceLogFields }, httpOut] })],
  controllers: [PinoController],
})
class PinoModule {}

const idsOf = (span: ReadableSpan) => ({
  trace_id: span.spanContext().traceId,
  span_id: span.spanContext().spanId,
  trace_flags: '01',
});

async function boot(platform: Platform, imports: unknown[], logger?: TracingLogger): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ autoTrace: false }), ...(imports as [])],
    controllers: [LogController],
  }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    logger: logger ?? false,
  });
  await app.listen(0, '127.0.0.1');
  return app;
}

/** ConsoleLogger writes to process.stdout: collect what it writes while `fn` runs. */
async function stdoutOf(fn: () => Promise<unknown>): Promise<string[]> {
  const write = process.stdout.write;
  const out: string[] = [];
  process.stdout.write = ((chunk: string) => out.push(...String(chunk).split('\n').filter(Boolean)) > 0) as never;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return out;
}

async function until(condition: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const get = (app: INestApplication, path: string) =>
  app
    .getUrl()
    .then((url) => fetch(url.replace('[::1]', '127.0.0.1') + path))
    .then((r) => r.status);

describe.each(PLATFORMS)('log lines that carry the trace, on %s', (platform) => {
  it('TracingLogger in json mode: trace_id, span_id, trace_flags of the active span; none outside a span', async () => {
    let app: INestApplication | undefined;
    const lines = await stdoutOf(async () => {
      app = await boot(platform, [], new TracingLogger({ json: true }));
      expect(await get(app, '/log/nest')).toBe(200);
    });
    try {
      const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const order = records.find((r) => r.message === 'placing order')!;
      expect(order).toMatchObject({
        level: 'log',
        context: 'Orders',
        ...idsOf(app!.get(SpanRecorder).find('log with Nest')),
      });
      const startup = records.filter((r) => r !== order);
      expect(startup.length).toBeGreaterThan(0);
      for (const record of startup) expect(Object.keys(record)).not.toContain('trace_id');
    } finally {
      await app?.close();
    }
  });

  it('TracingLogger in text mode: a trace_id=… span_id=… suffix inside a span, nothing outside', async () => {
    let app: INestApplication | undefined;
    const lines = await stdoutOf(async () => {
      app = await boot(platform, [], new TracingLogger({ colors: false }));
      expect(await get(app, '/log/nest')).toBe(200);
    });
    try {
      const { trace_id, span_id } = idsOf(app!.get(SpanRecorder).find('log with Nest'));
      const order = lines.find((l) => l.includes('placing order'))!;
      expect(order).toMatch(new RegExp(`LOG \\[Orders\\] placing order.* trace_id=${trace_id} span_id=${span_id}$`));
      expect(lines.filter((l) => l.includes('trace_id='))).toEqual([order]);
    } finally {
      await app?.close();
    }
  });

  it.each([
    ['pino', pinoOut],
    ['winston', winstonOut],
  ] as const)('%s with traceLogFields', async (name, out) => {
    const app = await boot(platform, []);
    try {
      out.lines.length = 0;
      expect(await get(app, `/log/${name}`)).toBe(200);
      pinoLogger.info('outside any span');
      winstonLogger.info('outside any span');
      const [inside, outside] = out.json();
      expect(inside).toMatchObject({ ...idsOf(app.get(SpanRecorder).find(`log with ${name}`)) });
      expect(outside).toBeDefined();
      expect(Object.keys(outside!)).not.toContain('trace_id');
    } finally {
      await app.close();
    }
  });
});

// On Fastify, nestjs-pino 5.2's request middleware does not run under Nest 12.5 (with or without tracing).
describe('nestjs-pino on express', () => {
  const platform: Platform = 'express';
  it('nestjs-pino: the app log and the request log both carry the request trace', async () => {
    httpOut.lines.length = 0;
    const app = await boot(platform, [PinoModule]);
    try {
      expect(await get(app, '/pino-http')).toBe(200);
      const server = app.get(SpanRecorder).find('GET /pino-http');
      // pino-http logs the request when the response has finished, which the client may see first
      await until(
        () => httpOut.json().some((r) => r.msg === 'request completed'),
        () => `the request log; got ${JSON.stringify(httpOut.json())}`,
      );
      const records = httpOut.json();
      const order = records.find((r) => r.msg === 'placing order')!;
      const completed = records.find((r) => r.msg === 'request completed')!;
      expect(order).toMatchObject(idsOf(server));
      expect(completed).toMatchObject(idsOf(server));
    } finally {
      await app.close();
    }
  });
});
