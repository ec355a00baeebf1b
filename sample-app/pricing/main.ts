import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { PricingModule } from './pricing.module.js';

const port = Number(process.env.PORT ?? 3002);
const app = await NestFactory.createMicroservice<MicroserviceOptions>(PricingModule, {
  transport: Transport.TCP,
  options: { host: '127.0.0.1', port },
  logger: ['error', 'warn'],
});
app.enableShutdownHooks();
await app.listen();
const url = `tcp://127.0.0.1:${port}`;
if (process.send) process.send({ ready: 'pricing', url });
else console.log(`pricing listening on ${url}`);
