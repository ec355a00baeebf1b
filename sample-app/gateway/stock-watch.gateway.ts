import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { OrdersService } from './orders.service.js';

/**
 * Live stock for a storefront page, over socket.io on the gateway's own port (namespace
 * /live). One `stock.watch` message is one trace: `WS stock.watch`, the handler, and the
 * calls it makes to inventory (HTTP) and pricing (Nest's TCP transport).
 */
@WebSocketGateway({ namespace: 'live' })
export class StockWatchGateway {
  constructor(private readonly orders: OrdersService) {}

  @SubscribeMessage('stock.watch')
  watch(@MessageBody() body: { sku: string }) {
    return this.orders.product(body.sku);
  }
}
