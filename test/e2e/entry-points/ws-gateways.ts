import { Injectable, UseGuards, type CanActivate } from '@nestjs/common';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import { randomBytes } from 'node:crypto';
import { from, map } from 'rxjs';

/** A W3C traceparent for a span a "traced client" is in. */
export function traceparent(): { header: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

@Injectable()
export class DenyGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

/** The same handlers behind socket.io (namespace /chat) and ws (path /ws). */
class ChatHandlers implements OnGatewayConnection, OnGatewayDisconnect {
  readonly connected: unknown[] = [];
  readonly disconnected: unknown[] = [];

  handleConnection(client: unknown): void {
    this.connected.push(client);
  }

  handleDisconnect(client: unknown): void {
    this.disconnected.push(client);
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): unknown {
    return data;
  }

  @SubscribeMessage('shout')
  shout(@MessageBody() data: { text: string }) {
    return { event: 'shouted', data: data.text.toUpperCase() };
  }

  @UseGuards(DenyGuard)
  @SubscribeMessage('secret')
  secret(): string {
    return 'never';
  }

  @SubscribeMessage('explode')
  explode(): never {
    throw new Error('boom');
  }

  @SubscribeMessage('invalid')
  invalid(): never {
    throw new WsException('bad input');
  }

  @SubscribeMessage('slow')
  async slow(@MessageBody() data: { n: number }): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve));
    return data.n * 2;
  }

  @SubscribeMessage('ticks')
  ticks() {
    return from([1, 2, 3]).pipe(map((n) => ({ event: 'tick', data: n })));
  }
}

@WebSocketGateway({ namespace: 'chat' })
export class ChatGateway extends ChatHandlers {}

@WebSocketGateway({ path: '/ws' })
export class RawGateway extends ChatHandlers {}

/** No connection hooks: no connection spans either. */
@WebSocketGateway({ namespace: 'quiet' })
export class QuietGateway {
  @SubscribeMessage('ping')
  ping(): string {
    return 'pong';
  }
}
