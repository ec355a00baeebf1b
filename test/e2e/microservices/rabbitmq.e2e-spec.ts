import { Transport, type ClientOptions, type MicroserviceOptions } from '@nestjs/microservices';
import { BROKERS, describeWithBroker } from '../../support/brokers.js';
import { defineTransportTests } from '../../support/microservices-harness.js';

const { host, port } = BROKERS.rabbitmq;
const urls = [`amqp://guest:guest@${host}:${port}`];
// one queue per worker and run; gone when its consumers are
const queueOf = (prefix: string) => `nestjs-tracing.${prefix}`;
const queueOptions = { durable: false, autoDelete: true };

await describeWithBroker(BROKERS.rabbitmq, 'microservices over RabbitMQ', () => {
  defineTransportTests({
    system: 'rabbitmq',
    serverOptions: (prefix): MicroserviceOptions => ({
      transport: Transport.RMQ,
      options: { urls, queue: queueOf(prefix), queueOptions },
    }),
    clientOptions: (_worker, prefix): ClientOptions => ({
      transport: Transport.RMQ,
      options: { urls, queue: queueOf(prefix), queueOptions },
    }),
    destination: (_pattern, prefix) => queueOf(prefix),
    clientAttributes: { 'server.address': host, 'server.port': port },
    carrierVisible: true,
    carrierName: 'AMQP message headers',
  });
});
