import { SpanStatusCode } from '@opentelemetry/api';
import request from 'supertest';
import { countOf, hrMs, named, only, parentId, spanId } from '../memory-tracing.js';
import type { TransportRig } from './transport-suite.js';

/** How a handler ends shows on both sides: an RpcException, an unexpected error, a stream. */
export function outcomeTests(rig: TransportRig): void {
  const { p, gatewaySpans, workerSpans } = rig;
  const api = () => request(rig.gateway.getHttpServer());

  it('records an RpcException on the server span and the client span', async () => {
    const res = await api().get('/orders/fail/rpc');
    expect(res.body).toEqual({ error: { status: 'error', message: 'order is locked' } });
    const back = await workerSpans(named(`process ${p.fail}`));
    const server = only(back, `process ${p.fail}`);
    expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: 'order is locked' });
    expect(server.events.find((e) => e.name === 'exception')?.attributes?.['exception.message']).toBe(
      'order is locked',
    );
    const front = await gatewaySpans(named(`send ${p.fail}`));
    const client = only(front, `send ${p.fail}`);
    expect(client.status).toEqual({ code: SpanStatusCode.ERROR, message: 'order is locked' });
    expect(client.attributes['error.type']).toBeDefined();
    expect(parentId(server)).toBe(spanId(client));
  });

  it('records an unexpected error: its own message on the @Trace span, what the client gets on the message spans', async () => {
    const res = await api().get('/orders/fail/boom');
    expect(res.body).toEqual({ error: { status: 'error', message: 'Internal server error' } });
    const back = await workerSpans(named(`process ${p.fail}`));
    const server = only(back, `process ${p.fail}`);
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.status.message).toBe('Internal server error');
    const explode = only(back, 'OrdersLedger.explode');
    expect(parentId(explode)).toBe(spanId(server));
    expect(explode.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ledger is on fire' });
    const front = await gatewaySpans(named(`send ${p.fail}`));
    expect(only(front, `send ${p.fail}`).status.code).toBe(SpanStatusCode.ERROR);
  });

  it('covers a streamed (Observable) response until its last value', async () => {
    const res = await api().get('/orders/stream/4');
    expect(res.body).toEqual([0, 10, 20, 30]);
    const back = await workerSpans(countOf('OrdersLedger.price', 4));
    const server = only(back, `process ${p.stream}`);
    const prices = back.filter((s) => s.name === 'OrdersLedger.price');
    expect(prices).toHaveLength(4);
    for (const price of prices) expect(parentId(price)).toBe(spanId(server));
    // four values 3 ms apart: the span lasts until the last one, not until the handler returned
    expect(hrMs(server.duration)).toBeGreaterThanOrEqual(8);
    const front = await gatewaySpans(named(`send ${p.stream}`));
    const client = only(front, `send ${p.stream}`);
    expect(parentId(server)).toBe(spanId(client));
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
  });
}
