import { Transport, type ClientOptions, type MicroserviceOptions } from '@nestjs/microservices';
import { BROKERS, describeWithBroker } from '../../support/brokers.js';
import { defineTransportTests } from '../../support/microservices-harness.js';

const { host, port } = BROKERS.redis;

await describeWithBroker(BROKERS.redis, 'microservices over Redis', () => {
  defineTransportTests({
    system: 'redis',
    serverOptions: (): MicroserviceOptions => ({ transport: Transport.REDIS, options: { host, port } }),
    clientOptions: (): ClientOptions => ({ transport: Transport.REDIS, options: { host, port } }),
    destination: (pattern) => pattern,
    clientAttributes: { 'server.address': host, 'server.port': port },
    carrierVisible: true,
    carrierName: 'packet envelope (ctx.getMetadata())',
  });
});
