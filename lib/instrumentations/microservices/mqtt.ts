import { context, createContextKey } from '@opentelemetry/api';
import { extractParent, isObject, outgoingHeaders } from './carriers.js';
import { addressAttributes, MESSAGING_DESTINATION_NAME } from './semconv.js';
import type { ClientProxyLike, ClientTransport, ServerLike, ServerTransport } from './types.js';

/**
 * MQTT: with MQTT 5 (`protocolVersion: 5`) the context rides in the PUBLISH packet's user
 * properties; MQTT 3.1.1 (mqtt.js's default) has no headers, so there it rides in the Nest
 * packet envelope's `metadata`, as for TCP and Redis.
 */
const SYSTEM = 'mqtt';

type MergeOptions = (requestOptions?: Record<string, unknown>) => Record<string, unknown> | undefined;

interface MqttClientLike extends ClientProxyLike {
  mergePacketOptions?: MergeOptions;
}

const isMqtt5 = (client: ClientProxyLike): boolean => client.options?.protocolVersion === 5;

export const mqttClient: ClientTransport = {
  system: SYSTEM,
  staticAttributes: (client) =>
    addressAttributes(typeof client.options?.url === 'string' ? client.options.url : 'mqtt://localhost:1883', 1883),
  usesEnvelope: (client) => !isMqtt5(client),
  installHeaders: (client) => {
    if (!isMqtt5(client)) return;
    const target = client as MqttClientLike;
    const merge = target.mergePacketOptions;
    if (typeof merge !== 'function') return;
    target.mergePacketOptions = function mergeOptionsWithTraceContext(
      this: unknown,
      requestOptions?: Record<string, unknown>,
    ) {
      const merged = merge.call(this, requestOptions);
      const outgoing = outgoingHeaders();
      if (!outgoing) return merged;
      const options = merged ?? {};
      const properties = isObject(options.properties) ? options.properties : {};
      const userProperties = isObject(properties.userProperties) ? properties.userProperties : {};
      return { ...options, properties: { ...properties, userProperties: { ...userProperties, ...outgoing } } };
    };
  },
};

/**
 * MqttContext exposes the MQTT packet but not the Nest envelope; for MQTT 3.1.1 senders the
 * server keeps the envelope's metadata for the message, in a context slot that lives from
 * handleMessage (where the payload is parsed) to the handler.
 */
const ENVELOPE = createContextKey('nestjs-tracing mqtt envelope');
interface EnvelopeSlot {
  metadata?: Record<string, unknown>;
}

interface MqttServerLike extends ServerLike {
  handleMessage?: (...args: unknown[]) => unknown;
  parseMessage?: (content: unknown) => unknown;
}

export const mqttServer: ServerTransport = {
  system: SYSTEM,
  staticAttributes: () => ({}),
  install: (server) => {
    const target = server as MqttServerLike;
    const handleMessage = target.handleMessage;
    const parseMessage = target.parseMessage;
    if (typeof handleMessage !== 'function' || typeof parseMessage !== 'function') return;
    target.handleMessage = function handleMessageWithEnvelope(this: unknown, ...args: unknown[]) {
      const slot: EnvelopeSlot = {};
      return context.with(context.active().setValue(ENVELOPE, slot), handleMessage, this, ...args);
    };
    target.parseMessage = function parseMessageKeepingEnvelope(this: unknown, content: unknown) {
      const parsed = parseMessage.call(this, content);
      const slot = context.active().getValue(ENVELOPE) as EnvelopeSlot | undefined;
      if (slot && isObject(parsed) && isObject(parsed.metadata)) slot.metadata = parsed.metadata;
      return parsed;
    };
  },
  parent: (rpcContext, propagator) => {
    const packet = (rpcContext as { getPacket?: () => unknown } | undefined)?.getPacket?.() as
      { properties?: { userProperties?: unknown } } | undefined;
    const userProperties = packet?.properties?.userProperties;
    const properties = isObject(userProperties) ? userProperties : undefined;
    if (properties && propagator.fields().some((field) => field in properties)) {
      return extractParent(propagator, properties);
    }
    const slot = context.active().getValue(ENVELOPE) as EnvelopeSlot | undefined;
    return extractParent(propagator, slot?.metadata ?? properties);
  },
  attributes: (_server, rpcContext) => {
    const topic = (rpcContext as { getTopic?: () => unknown } | undefined)?.getTopic?.();
    return typeof topic === 'string' ? { [MESSAGING_DESTINATION_NAME]: topic } : {};
  },
};
