import { Transport, type ClientOptions, type MicroserviceOptions } from '@nestjs/microservices';
import { BROKERS, describeWithBroker } from '../../support/brokers.js';
import { defineTransportTests } from '../../support/microservices-harness.js';

const { host, port } = BROKERS.mqtt;
const url = `mqtt://${host}:${port}`;

await describeWithBroker(BROKERS.mqtt, 'microservices over MQTT 5', () => {
  defineTransportTests({
    system: 'mqtt',
    serverOptions: (): MicroserviceOptions => ({ transport: Transport.MQTT, options: { url, protocolVersion: 5 } }),
    clientOptions: (): ClientOptions => ({ transport: Transport.MQTT, options: { url, protocolVersion: 5 } }),
    destination: (pattern) => pattern,
    clientAttributes: { 'server.address': host, 'server.port': port },
    carrierVisible: true,
    carrierName: 'MQTT 5 user properties',
  });
});

// mqtt.js speaks MQTT 3.1.1 unless told otherwise: no headers, so the envelope carries the context
await describeWithBroker(BROKERS.mqtt, 'microservices over MQTT 3.1.1', () => {
  defineTransportTests({
    system: 'mqtt',
    serverOptions: (): MicroserviceOptions => ({ transport: Transport.MQTT, options: { url } }),
    clientOptions: (): ClientOptions => ({ transport: Transport.MQTT, options: { url } }),
    destination: (pattern) => pattern,
    carrierVisible: false,
    carrierName: 'packet envelope',
  });
});
