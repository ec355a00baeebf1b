import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { listenAndAnnounce } from '../shared/bootstrap.js';
import { InventoryModule } from './inventory.module.js';

const app = await NestFactory.create<NestFastifyApplication>(InventoryModule, new FastifyAdapter(), {
  logger: ['error', 'warn'],
});
await listenAndAnnounce(app, 'inventory', Number(process.env.PORT ?? 3001));
