import { createServer, type AddressInfo } from 'node:net';
import { brokersRequired, decide, isReachable, REQUIRE_BROKERS_ENV } from '../../support/brokers.js';

describe('broker gate for transport tests', () => {
  it('runs with a broker, skips without one, and fails without one when brokers are required', () => {
    expect(decide(true, false)).toBe('run');
    expect(decide(true, true)).toBe('run');
    expect(decide(false, false)).toBe('skip');
    expect(decide(false, true)).toBe('fail');
  });

  it(`reads ${REQUIRE_BROKERS_ENV} as a flag`, () => {
    expect(brokersRequired({})).toBe(false);
    expect(brokersRequired({ [REQUIRE_BROKERS_ENV]: '' })).toBe(false);
    expect(brokersRequired({ [REQUIRE_BROKERS_ENV]: '0' })).toBe(false);
    expect(brokersRequired({ [REQUIRE_BROKERS_ENV]: 'false' })).toBe(false);
    expect(brokersRequired({ [REQUIRE_BROKERS_ENV]: '1' })).toBe(true);
    expect(brokersRequired({ [REQUIRE_BROKERS_ENV]: 'true' })).toBe(true);
  });

  it('probes a port with a TCP connect', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await isReachable(port)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await isReachable(port)).toBe(false);
  });
});
