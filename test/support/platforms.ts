import type { INestApplication, LoggerService } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { TestingModule } from '@nestjs/testing';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** Boots the app on 127.0.0.1 with a free port, like a real service; silent unless given a logger. */
export async function listen(
  moduleRef: TestingModule,
  platform: Platform,
  logger: LoggerService | false = false,
): Promise<INestApplication> {
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    logger,
  });
  await app.listen(0, '127.0.0.1');
  return app;
}

export function baseUrl(app: INestApplication): string {
  const address = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}
