import 'reflect-metadata';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { type INestApplication } from '@nestjs/common';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import axios from 'axios';
import superagent from 'superagent';
import { TraceService } from 'nestjs-tracing';
import { SpanRecorder } from 'nestjs-tracing/testing';
import { closed, consume, Downstream, startApp } from '../support/http-downstream.js';
import { freePort } from '../support/ports.js';

/*
 * Outgoing node:http requests, however they are made: the request functions in each of
 * their call forms, a keep-alive agent, a request that fails or is cut off, and clients
 * built on them. The service called records the headers it receives.
 */
describe('outgoing node:http and node:https requests', () => {
  let app: INestApplication;
  let recorder: SpanRecorder;
  let tracing: TraceService;
  let downstream: Downstream;
  const originals = { request: http.request, get: http.get, httpsRequest: https.request, httpsGet: https.get };

  /** Runs `call` inside a `job` span; returns the job span and the one CLIENT span it made. */
  async function inJob(call: () => Promise<unknown>): Promise<{ job: ReadableSpan; client: ReadableSpan }> {
    recorder.reset();
    await tracing.startActiveSpan('job', async (span) => {
      try {
        await call();
      } finally {
        span.end();
      }
    });
    const job = recorder.find('job');
    const clients = recorder.spans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(clients).toHaveLength(1);
    return { job, client: clients[0]! };
  }

  const expectContinued = (client: ReadableSpan, headers: IncomingHttpHeaders) => {
    const { traceId, spanId } = client.spanContext();
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  };

  beforeAll(async () => {
    downstream = await new Downstream().start();
    ({ app, recorder, tracing } = await startApp());
  });
  afterAll(async () => {
    await app.close();
    await downstream.close();
  });

  it('http.get(url, callback): a CLIENT span under the caller, with the attributes fetch gets, and the context sent', async () => {
    const { job, client } = await inJob(
      () => new Promise((resolve) => http.get(`${downstream.url}/prices/abc?secret=1`, (res) => resolve(consume(res)))),
    );
    expect(client.name).toBe('GET');
    expect(client.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
    expect(client.spanContext().traceId).toBe(job.spanContext().traceId);
    expect(client.attributes).toEqual({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(downstream.url).port),
      'url.full': `${downstream.url}/prices/abc`,
      'http.response.status_code': 200,
    });
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
    expectContinued(client, downstream.last());
  });

  it('http.request(url, options, callback) + end()', async () => {
    const { client } = await inJob(
      () =>
        new Promise((resolve) => {
          const req = http.request(`${downstream.url}/items`, { method: 'POST' }, (res) => resolve(consume(res)));
          req.end('{}');
        }),
    );
    expect(client.name).toBe('POST');
    expect(client.attributes['http.request.method']).toBe('POST');
    expectContinued(client, downstream.last());
  });

  it("http.request(options) with a 'response' listener and end(), keeping headers the caller set", async () => {
    const { port } = new URL(downstream.url);
    const { client } = await inJob(
      () =>
        new Promise((resolve) => {
          const req = http.request({ host: '127.0.0.1', port, path: '/x', headers: { 'x-caller': 'kept' } });
          req.on('response', (res) => resolve(consume(res)));
          req.end();
        }),
    );
    expect(client.attributes['url.full']).toBe(`${downstream.url}/x`);
    expect(downstream.last()['x-caller']).toBe('kept');
    expectContinued(client, downstream.last());
  });

  it('a request with no response listener is still drained and its span ends', async () => {
    const { client } = await inJob(() => closed(http.get(`${downstream.url}/fire-and-forget`)));
    expect(client.attributes['http.response.status_code']).toBe(200);
  });

  it('keeps each request of a keep-alive agent in its own trace', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await inJob(
        () => new Promise((resolve) => http.get(`${downstream.url}/a`, { agent }, (res) => resolve(consume(res)))),
      );
      const firstHeaders = downstream.last();
      const second = await inJob(
        () => new Promise((resolve) => http.get(`${downstream.url}/b`, { agent }, (res) => resolve(consume(res)))),
      );
      expect(second.client.spanContext().traceId).not.toBe(first.client.spanContext().traceId);
      expectContinued(first.client, firstHeaders);
      expectContinued(second.client, downstream.last());
      expect(second.client.parentSpanContext?.spanId).toBe(second.job.spanContext().spanId);
    } finally {
      agent.destroy();
    }
  });

  it('marks a 5xx answer as an error, as for fetch', async () => {
    const { client } = await inJob(
      () => new Promise((resolve) => http.get(`${downstream.url}/boom`, (res) => resolve(consume(res)))),
    );
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
  });

  it('records a request that cannot connect, without adding an error listener of its own', async () => {
    const url = `http://127.0.0.1:${await freePort()}/`;
    let listeners = -1;
    const { client } = await inJob(
      () =>
        new Promise<void>((resolve) => {
          const req = http.get(url);
          listeners = req.listenerCount('error');
          req.on('error', () => undefined);
          req.on('close', () => resolve());
        }),
    );
    // an unhandled request error must still be thrown, as without tracing
    expect(listeners).toBe(0);
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes['error.type']).toBe('ECONNREFUSED');
    expect(client.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('records a response cut off before its end', async () => {
    const { client } = await inJob(
      () =>
        new Promise<void>((resolve) => {
          const req = http.get(`${downstream.url}/half`, (res) => {
            res.on('error', () => undefined);
            res.resume();
          });
          req.on('close', () => resolve());
        }),
    );
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes['http.response.status_code']).toBe(200);
    expect(client.attributes['error.type']).toBeDefined();
  });

  it('traces a bare axios instance and superagent (clients built on node:http), once each', async () => {
    const viaAxios = await inJob(() => axios.create().get(`${downstream.url}/axios`));
    expect(viaAxios.client.attributes['url.full']).toBe(`${downstream.url}/axios`);
    expectContinued(viaAxios.client, downstream.last());
    const viaSuperagent = await inJob(() => superagent.get(`${downstream.url}/superagent`));
    expect(viaSuperagent.client.attributes['http.response.status_code']).toBe(200);
    expectContinued(viaSuperagent.client, downstream.last());
  });

  it('adds no span and no header outside a trace (a library’s start-up or background call)', async () => {
    recorder.reset();
    await new Promise((resolve) => http.get(`${downstream.url}/untraced`, (res) => resolve(consume(res))));
    expect(recorder.spans()).toEqual([]);
    expect(downstream.last().traceparent).toBeUndefined();
  });

  it('keeps the name and length of what it wraps, and puts the originals back when the app closes', async () => {
    expect(http.request).not.toBe(originals.request);
    expect([http.request.name, http.get.name, https.request.name, https.get.name]).toEqual([
      'request',
      'get',
      'request',
      'get',
    ]);
    expect(http.request.length).toBe(originals.request.length);
    expect(http.get.length).toBe(originals.get.length);
    const other = await startApp({ serviceName: 'second' });
    await other.app.close();
    // still wrapped: the first app runs
    expect(http.request).not.toBe(originals.request);
  });
});
