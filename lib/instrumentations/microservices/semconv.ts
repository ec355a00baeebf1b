/**
 * Attribute names from the OpenTelemetry messaging and RPC semantic conventions,
 * plus the span names this library gives message exchanges.
 */
export const MESSAGING_SYSTEM = 'messaging.system';
export const MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const MESSAGING_RABBITMQ_ROUTING_KEY = 'messaging.rabbitmq.destination.routing_key';
export const RPC_SYSTEM = 'rpc.system';
export const RPC_SERVICE = 'rpc.service';
export const RPC_METHOD = 'rpc.method';
export const RPC_GRPC_STATUS_CODE = 'rpc.grpc.status_code';
export const SERVER_ADDRESS = 'server.address';
export const SERVER_PORT = 'server.port';
export const ERROR_TYPE = 'error.type';

/** `ClientProxy.send()` (request/response) and `.emit()` (event) are both "send" operations. */
export type ClientOperation = 'send' | 'emit';

export const clientSpanName = (operation: ClientOperation, pattern: string): string => `${operation} ${pattern}`;
export const serverSpanName = (pattern: string): string => `process ${pattern}`;

/** host[:port] from a URL or a "host:port" address, for server.address / server.port; undefined when unsure. */
export function addressAttributes(address: unknown, defaultPort?: number): Record<string, string | number> {
  if (typeof address !== 'string' || address === '') return {};
  try {
    const url = new URL(address.includes('://') ? address : `tcp://${address}`);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host) return {};
    const port = url.port ? Number(url.port) : defaultPort;
    return port === undefined ? { [SERVER_ADDRESS]: host } : { [SERVER_ADDRESS]: host, [SERVER_PORT]: port };
  } catch {
    return {};
  }
}
