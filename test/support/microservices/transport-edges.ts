import { SpanStatusCode } from '@opentelemetry/api';
import { lastValueFrom } from 'rxjs';
import request from 'supertest';
import { named, only, parentId, spanId, traceId } from '../memory-tracing.js';
import { waitUntil } from '../wait-for-spans.js';
import type { TransportRig } from './transport-suite.js';

/** The edges: an untraced client, a failing tracer, an untraced worker. */
export function edgeTests(rig: TransportRig): void {
  const { t, p, plainPatterns, gatewaySpans, workerSpans } = rig;
  const api = () => request(rig.gateway.getHttpServer());

  it('serves an untraced client: its message starts a new trace at the worker', async () => {
    const reply = await lastValueFrom(rig.bareClient.send(p.get, { id: 5 }));
    expect(reply).toEqual({ id: 5, total: 50 });
    const back = await workerSpans(named('OrdersLedger.load'));
    const server = only(back, `process ${p.get}`);
    expect(parentId(server)).toBeUndefined();
    expect(parentId(only(back, 'OrdersLedger.load'))).toBe(spanId(server));
  });

  it('keeps messages flowing when tracing itself fails, and says so once', async () => {
    const said = (what: string) => rig.logs.tracing(new RegExp(what));
    rig.fault.failing = true;
    try {
      const [res, accepted] = await Promise.all([api().get('/orders/3'), api().post('/orders/4/created')]);
      expect(res.body).toEqual({ id: 3, total: 30, checked: true });
      expect(accepted.status).toBe(202);
      const again = await api().get('/orders/5');
      expect(again.body).toEqual({ id: 5, total: 50, checked: true });
      // only the gateway sends, only the worker handles: each message names the side that said it
      expect(said('microservice client span')).toHaveLength(1);
      // the event may still be on its way: wait for the worker to have said it once
      await waitUntil(() => said('microservice server span').length > 0);
    } finally {
      rig.fault.failing = false;
    }
  });

  it(`reaches an untraced worker unchanged, with the context in the ${t.carrierName}`, async () => {
    const res = await api().get('/orders/9/plain');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: 9 });
    const front = await gatewaySpans(named(`send ${plainPatterns.echo}`));
    const client = only(front, `send ${plainPatterns.echo}`);
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
    if (t.carrierVisible) {
      expect(res.body.carrier).toMatchObject({ traceparent: `00-${traceId(client)}-${spanId(client)}-01` });
    }
  });
}
