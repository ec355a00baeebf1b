import net from 'node:net';

/**
 * Brokers the transport tests talk to, always on 127.0.0.1. A port can be moved with
 * NESTJS_TRACING_<KEY>_PORT (e.g. NESTJS_TRACING_REDIS_PORT=6380) for a machine whose
 * broker listens elsewhere.
 */
export interface Broker {
  key: string;
  name: string;
  host: '127.0.0.1';
  port: number;
}

const HOST = '127.0.0.1';
const broker = (key: string, name: string, defaultPort: number): Broker => ({
  key,
  name,
  host: HOST,
  port: Number(process.env[`NESTJS_TRACING_${key.toUpperCase()}_PORT`] ?? defaultPort),
});

export const BROKERS = {
  redis: broker('redis', 'Redis', 6379),
  nats: broker('nats', 'NATS', 4222),
  rabbitmq: broker('rabbitmq', 'RabbitMQ', 5672),
  mqtt: broker('mqtt', 'Mosquitto (MQTT)', 1883),
} satisfies Record<string, Broker>;

/** Set by .ci/run: an unreachable broker then fails its tests instead of skipping them. */
export const REQUIRE_BROKERS_ENV = 'NESTJS_TRACING_REQUIRE_BROKERS';

export function brokersRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[REQUIRE_BROKERS_ENV]?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** True when something accepts a TCP connection at host:port within `timeoutMs`. */
export function isReachable(port: number, host: string = HOST, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export type BrokerDecision = 'run' | 'skip' | 'fail';

export function decide(reachable: boolean, required: boolean): BrokerDecision {
  if (reachable) return 'run';
  return required ? 'fail' : 'skip';
}

export const unreachable = (b: Broker): string => `${b.name} at ${b.host}:${b.port} is unreachable`;

/**
 * `describe` for tests that need a broker; call it with top-level await. Reachable: the
 * tests run. Unreachable: they are skipped with a warning and a suite title saying which
 * broker at which address, or, when NESTJS_TRACING_REQUIRE_BROKERS is set, replaced by
 * a failing test saying the same.
 */
export async function describeWithBroker(b: Broker, title: string, body: () => void): Promise<void> {
  const decision = decide(await isReachable(b.port, b.host), brokersRequired());
  if (decision === 'run') {
    describe(title, body);
    return;
  }
  if (decision === 'skip') {
    const notice = `Skipping "${title}": ${unreachable(b)} (set ${REQUIRE_BROKERS_ENV}=1 to fail instead).`;
    console.warn(notice);
    // Jest hides a file whose tests are all skipped, warning included: one test reports the skip.
    describe(`${title} [skipped: ${unreachable(b)}]`, () => {
      it(`skips its tests: ${unreachable(b)}`, () => undefined);
      describe.skip('needs the broker', body);
    });
    return;
  }
  describe(title, () => {
    it(`needs ${b.name} at ${b.host}:${b.port}`, () => {
      throw new Error(
        `${unreachable(b)}, and ${REQUIRE_BROKERS_ENV} is set: start the broker (see README, "Microservices").`,
      );
    });
  });
}
