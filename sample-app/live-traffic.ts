import { io } from 'socket.io-client';

/** What a storefront page does: watch a product over the gateway's socket.io namespace /live. */
export async function watchStock(baseUrl: string, sku = 'lamp', log = console.log): Promise<unknown> {
  const socket = io(`${baseUrl}/live`, { transports: ['websocket'], forceNew: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const started = performance.now();
    const answer: unknown = await socket.timeout(5000).emitWithAck('stock.watch', { sku });
    const ms = (performance.now() - started).toFixed(1).padStart(6);
    log(`  ack  ${ms} ms  WS   ${`stock.watch ${sku}`.padEnd(28)} one WebSocket message → inventory, pricing`);
    return answer;
  } finally {
    socket.disconnect();
  }
}
