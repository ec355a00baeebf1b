import { createRequire } from 'node:module';
import { join } from 'node:path';

const ownRequire = createRequire(import.meta.url);

/**
 * Loads a transport package (@grpc/grpc-js, @nats-io/transport-node) from where
 * @nestjs/microservices loads it, so that objects we create (gRPC Metadata, NATS headers)
 * come from the same copy the transport checks them against. Called once per client, at
 * startup, and only for the transports an app actually uses.
 *
 * Tried in order: beside @nestjs/microservices as this package sees it, then as the app
 * (its working directory) sees it (pnpm lets a package see only what it declares), then
 * from this package.
 */
export function loadPeer<T>(name: string): T | undefined {
  const appRequire = createRequire(join(process.cwd(), 'package.json'));
  const attempts = [
    (): unknown => createRequire(ownRequire.resolve('@nestjs/microservices'))(name),
    (): unknown => createRequire(appRequire.resolve('@nestjs/microservices'))(name),
    (): unknown => ownRequire(name),
  ];
  for (const attempt of attempts) {
    try {
      return attempt() as T;
    } catch {
      // next place
    }
  }
  return undefined;
}
