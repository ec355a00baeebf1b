import { Transport, type ClientOptions, type MicroserviceOptions } from '@nestjs/microservices';
import { BROKERS, describeWithBroker } from '../../support/brokers.js';
import { defineTransportTests } from '../../support/microservices-harness.js';

const { host, port } = BROKERS.nats;
const servers = [`nats://${host}:${port}`];

await describeWithBroker(BROKERS.nats, 'microservices over NATS', () => {
  defineTransportTests({
    system: 'nats',
    serverOptions: (): MicroserviceOptions => ({ transport: Transport.NATS, options: { servers } }),
    clientOptions: (): ClientOptions => ({ transport: Transport.NATS, options: { servers } }),
    destination: (pattern) => pattern,
    clientAttributes: { 'server.address': host, 'server.port': port },
    carrierVisible: true,
    carrierName: 'NATS message headers',
  });
});
