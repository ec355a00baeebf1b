import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import request from 'supertest';
import { countOf, inTrace, named, only, parentId, spanId, traceId } from '../memory-tracing.js';
import type { TransportRig } from './transport-suite.js';

/** One trace across the hop: send() and emit(), alone and 20 at once. */
export function propagationTests(rig: TransportRig): void {
  const { t, prefix, p, gatewaySpans, workerSpans } = rig;
  const api = () => request(rig.gateway.getHttpServer());

  it('carries one trace from an HTTP request through send() into the handler and its @Trace spans', async () => {
    const res = await api().get('/orders/7');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 7, total: 70, checked: true });

    const front = await gatewaySpans(named('Audit.check'));
    const http = only(front, 'GET /orders/:id');
    const client = only(front, `send ${p.get}`);
    expect(client.kind).toBe(SpanKind.CLIENT);
    expect(parentId(client)).toBe(spanId(http));
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
    expect(client.attributes).toMatchObject({
      'messaging.system': t.system,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': t.destination(p.get, prefix),
      ...t.clientAttributes,
    });
    // the reply is handled in the request's context, not the connection's
    const check = only(front, 'Audit.check');
    expect(parentId(check)).toBe(spanId(http));
    expect(client.resource.attributes['service.name']).toBe('gateway');

    const back = await workerSpans(named('OrdersLedger.price'));
    const server = only(back, `process ${p.get}`);
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(traceId(server)).toBe(traceId(http));
    expect(parentId(server)).toBe(spanId(client));
    expect(server.attributes).toMatchObject({
      'messaging.system': t.system,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    expect(server.resource.attributes['service.name']).toBe('orders-worker');
    const load = only(back, 'OrdersLedger.load');
    expect(parentId(load)).toBe(spanId(server));
    expect(load.attributes['order.id']).toBe(7);
    expect(parentId(only(back, 'OrdersLedger.price'))).toBe(spanId(load));
  });

  it('gives emit() a PRODUCER span and the @EventPattern handler a CONSUMER span beneath it', async () => {
    const res = await api().post('/orders/8/created');
    expect(res.status).toBe(202);
    const front = await gatewaySpans(named(`emit ${p.created}`));
    const http = only(front, 'POST /orders/:id/created');
    const producer = only(front, `emit ${p.created}`);
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(parentId(producer)).toBe(spanId(http));
    expect(producer.attributes).toMatchObject({
      'messaging.system': t.system,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'emit',
      'messaging.destination.name': t.destination(p.created, prefix),
    });

    const back = await workerSpans(named('OrdersLedger.record'));
    const consumer = only(back, `process ${p.created}`);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(traceId(consumer)).toBe(traceId(http));
    expect(parentId(consumer)).toBe(spanId(producer));
    expect(consumer.attributes['messaging.operation.type']).toBe('process');
    const record = only(back, 'OrdersLedger.record');
    expect(parentId(record)).toBe(spanId(consumer));
    expect(record.attributes['order.id']).toBe(8);
  });

  it('keeps 20 concurrent requests and 20 concurrent events in their own traces', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => i + 100);
    const server = rig.gateway.getHttpServer();
    const [replies, accepted] = await Promise.all([
      Promise.all(ids.map((id) => request(server).get(`/orders/${id}`))),
      Promise.all(ids.map((id) => request(server).post(`/orders/${id + 1000}/created`))),
    ]);
    replies.forEach((res, i) => expect(res.body).toEqual({ id: ids[i], total: ids[i]! * 10, checked: true }));
    accepted.forEach((res) => expect(res.status).toBe(202));

    const front = await gatewaySpans((s) => countOf('Audit.check', 20)(s) && countOf(`emit ${p.created}`, 20)(s));
    const back = await workerSpans((s) => countOf('OrdersLedger.load', 20)(s) && countOf('OrdersLedger.record', 20)(s));
    for (const id of ids) {
      const http = front.find((s) => s.name === 'GET /orders/:id' && s.attributes['url.path'] === `/orders/${id}`)!;
      expect(http).toBeDefined();
      const trace = traceId(http);
      const mine = inTrace(front, trace);
      const client = only(mine, `send ${p.get}`);
      expect(parentId(client)).toBe(spanId(http));
      const check = only(mine, 'Audit.check');
      expect(parentId(check)).toBe(spanId(http));
      expect(check.attributes['order.id']).toBe(id);
      const theirs = inTrace(back, trace);
      const handled = only(theirs, `process ${p.get}`);
      expect(parentId(handled)).toBe(spanId(client));
      const load = only(theirs, 'OrdersLedger.load');
      expect(parentId(load)).toBe(spanId(handled));
      expect(load.attributes['order.id']).toBe(id);

      const post = front.find(
        (s) => s.name === 'POST /orders/:id/created' && s.attributes['url.path'] === `/orders/${id + 1000}/created`,
      )!;
      const producer = only(inTrace(front, traceId(post)), `emit ${p.created}`);
      expect(parentId(producer)).toBe(spanId(post));
      const consumed = inTrace(back, traceId(post));
      const consumer = only(consumed, `process ${p.created}`);
      expect(parentId(consumer)).toBe(spanId(producer));
      const record = only(consumed, 'OrdersLedger.record');
      expect(parentId(record)).toBe(spanId(consumer));
      expect(record.attributes['order.id']).toBe(id + 1000);
    }
  });
}
