import type { Attributes, Context, TextMapPropagator } from '@opentelemetry/api';
import type { Observable } from 'rxjs';

/*
 * Structural views of @nestjs/microservices objects: the package stays an optional peer,
 * so nothing here imports it, and every member is checked before use.
 */

/** What ClientProxy.createPacket builds and the transports serialize. */
export interface Packet {
  pattern: unknown;
  data: unknown;
  id?: string;
  metadata?: Record<string, unknown>;
}

/** Members the instrumentation replaces are function-valued properties: it calls the originals with the client as `this`. */
export interface ClientProxyLike {
  send: (this: ClientProxyLike, pattern: unknown, data: unknown) => Observable<unknown>;
  emit: (this: ClientProxyLike, pattern: unknown, data: unknown) => Observable<unknown>;
  normalizePattern?(pattern: unknown): string;
  setOnDispatchHook?: (this: ClientProxyLike, hook: (packet: Packet) => void) => void;
  onDispatchHook?: (packet: Packet) => void;
  createPacket?: (this: ClientProxyLike, pattern: unknown, data: unknown) => Packet;
  options?: Record<string, unknown>;
}

export type MessageHandler = ((...args: unknown[]) => unknown) & {
  isEventHandler?: boolean;
  extras?: unknown;
  next?: MessageHandler;
};

export interface ServerLike {
  getHandlerByPattern: (this: ServerLike, pattern: string) => MessageHandler | null;
  messageHandlers?: Map<string, MessageHandler>;
  options?: Record<string, unknown>;
}

/** What a transport adds to the common client span code. */
export interface ClientTransport {
  /** messaging.system */
  readonly system: string;
  /** Attributes that never change for this client (broker address, queue): computed once. */
  staticAttributes(client: ClientProxyLike): Attributes;
  /** messaging.destination.name of a message sent with this pattern (default: the pattern). */
  destination?(client: ClientProxyLike, pattern: string): string;
  /** True when the context rides in the Nest packet envelope (`packet.metadata`) rather than transport headers. */
  usesEnvelope(client: ClientProxyLike): boolean;
  /** Makes the transport copy the outgoing headers into its own carrier (NATS headers, AMQP headers, MQTT 5 user properties). */
  installHeaders?(client: ClientProxyLike): void;
}

/** What a transport adds to the common server span code. */
export interface ServerTransport {
  readonly system: string;
  staticAttributes(server: ServerLike): Attributes;
  /** The sender's context from the RPC context Nest hands to the handler, read with the app's propagator. */
  parent(rpcContext: unknown, propagator: TextMapPropagator): Context;
  /** Per-message attributes (concrete destination, routing key). */
  attributes(server: ServerLike, rpcContext: unknown): Attributes;
  /** Extra instrumentation a transport needs to see its carrier (MQTT 3.1.1 envelope). */
  install?(server: ServerLike): void;
}
