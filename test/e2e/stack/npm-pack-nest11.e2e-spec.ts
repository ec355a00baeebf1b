import { rm } from 'node:fs/promises';
import { startOtlpReceiver } from '../../support/otlp-receiver.js';
import { freePort } from '../../support/ports.js';
import { installNest11App, jsonLines, listening, start, until, withOutput } from '../../support/nest11-app.js';
import { entryPointSuite } from './nest11-entry-points.js';

/*
 * The package in a Nest 11 app compiled to CommonJS, as most Nest 11 apps are: `npm pack`,
 * installed beside Nest 11 and the Nest 11 line of every optional peer (the peer ranges must
 * allow it), type-checked against the shipped declarations (`nestjs-tracing/testing`
 * included), require()d as an ES module, run as its own process: request spans, pg query spans
 * through the instrumentations option with no preload, TracingLogger's json lines, a TCP
 * microservice call, the testing module, and (nest11-entry-points.ts) the other entry points
 * and the request path's automatic spans.
 */
let appDir: string;

beforeAll(async () => {
  appDir = await installNest11App();
}, 240_000);
afterAll(() => rm(appDir, { recursive: true, force: true }));

describe('installed package in a Nest 11 CommonJS app', () => {
  it('traces requests, pg queries and TCP calls, and TracingLogger carries the trace ids', async () => {
    const receiver = await startOtlpReceiver();
    const app = start(appDir, 'main.js', { OTLP_URL: receiver.url, TCP_PORT: String(await freePort()) });
    const { child, out } = app;
    try {
      await withOutput(app, async () => {
        const port = await listening(app);
        expect(await fetch(`http://127.0.0.1:${port}/items/7`).then((r) => r.json())).toEqual({ id: 7 });
        expect(await fetch(`http://127.0.0.1:${port}/items/7/price`).then((r) => r.json())).toEqual({ price: 70 });
        child.kill('SIGTERM');
        const spans = await receiver.waitForSpans(6);
        const server = spans.find((s) => s.name === 'GET /items/:id')!;
        const find = spans.find((s) => s.name === 'ItemsService.find')!;
        const query = spans.find((s) => s.name.startsWith('pg.query:SELECT'))!;
        // automatic spans on Nest 11 too: the route handler between the server span and the service
        const handler = spans.find((s) => s.name === 'ItemsController.find')!;
        expect(server.resource['service.name']).toBe('consumer11');
        expect([handler.parentSpanId, handler.attributes['nestjs.type']]).toEqual([server.spanId, 'handler']);
        expect(find.parentSpanId).toBe(handler.spanId);
        expect([query.parentSpanId, query.traceId, query.kind]).toEqual([find.spanId, server.traceId, 'CLIENT']);
        expect(query.attributes['db.query.text']).toBe('SELECT $1::int AS id');
        // TCP on Nest 11: both sides traced, but its packets carry no metadata, so the server starts a new trace
        const priced = spans.find((s) => s.name === 'GET /items/:id/price')!;
        const sent = spans.find((s) => s.name === 'send price')!;
        const processed = spans.find((s) => s.name === 'process price')!;
        const pricedHandler = spans.find((s) => s.name === 'ItemsController.price')!;
        expect(pricedHandler.parentSpanId).toBe(priced.spanId);
        expect([sent.kind, sent.parentSpanId, sent.traceId]).toEqual(['CLIENT', pricedHandler.spanId, priced.traceId]);
        expect([processed.kind, processed.parentSpanId]).toEqual(['SERVER', undefined]);
        expect(processed.traceId).not.toBe(sent.traceId);
        const logged = jsonLines(out()).find((r) => r.message === 'found item');
        expect(logged).toMatchObject({
          context: 'Items',
          trace_id: server.traceId,
          span_id: find.spanId,
          trace_flags: '01',
        });
      });
    } finally {
      child.kill('SIGKILL');
      await receiver.close();
    }
  }, 30_000);

  it('records spans with TracingTestingModule and @nestjs/testing 11', async () => {
    const app = start(appDir, 'testing.js');
    const { out } = app;
    const result = await until(
      app,
      () => jsonLines(out()).find((r) => Array.isArray(r.children)) as { children: string[]; tree: string } | undefined,
      () => `the recorder's answer; output:\n${out()}`,
    );
    expect(result.children).toEqual(['pong']);
    expect(result.tree).toMatch(/GET \/ping[\s\S]*pong/);
  }, 30_000);
});

await entryPointSuite(() => appDir);
