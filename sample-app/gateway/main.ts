import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listenAndAnnounce } from '../shared/bootstrap.js';
import { GatewayModule } from './gateway.module.js';

const app = await NestFactory.create(GatewayModule, { logger: ['error', 'warn'] });
await listenAndAnnounce(app, 'gateway', Number(process.env.PORT ?? 3000));
