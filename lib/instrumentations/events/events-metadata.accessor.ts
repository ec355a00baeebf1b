/*
 * The reflect-metadata @nestjs/event-emitter writes, read here only (the package is an
 * optional peer: its key is named, not imported).
 */
const EVENT_LISTENER_METADATA = 'EVENT_LISTENER_METADATA';

interface ListenerMetadata {
  event?: unknown;
}

/** The events an `@OnEvent()` method listens to (one entry per decorator), as span attribute values; undefined for any other method. */
export function listenedEvents(method: unknown): string[] | undefined {
  if (typeof method !== 'function') return undefined;
  const listed = Reflect.getMetadata(EVENT_LISTENER_METADATA, method) as ListenerMetadata[] | undefined;
  if (!Array.isArray(listed) || listed.length === 0) return undefined;
  return listed.map(({ event }) => eventName(event));
}

/** EventEmitter2 events are strings, symbols, or arrays of parts (`['order', 'created']`, joined by its delimiter). */
function eventName(event: unknown): string {
  if (Array.isArray(event)) return event.map(eventName).join('.');
  return typeof event === 'symbol' ? (event.description ?? 'symbol') : String(event);
}
