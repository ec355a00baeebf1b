import type { Type } from '@nestjs/common';

/*
 * The reflect-metadata @nestjs/websockets writes (its constants.js), read here only: the
 * package is an optional peer, its keys are named, not imported.
 */
const GATEWAY_METADATA = 'websockets:is_gateway';
const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';

/** A `@WebSocketGateway()` class. */
export function isGateway(target: Type): boolean {
  return Reflect.getMetadata(GATEWAY_METADATA, target) === true;
}

/** A `@SubscribeMessage()` method. */
export function isMessageSubscriber(method: unknown): boolean {
  return typeof method === 'function' && Reflect.getMetadata(MESSAGE_MAPPING_METADATA, method) === true;
}
