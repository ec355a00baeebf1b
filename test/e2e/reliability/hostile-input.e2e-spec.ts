/**
 * Guarantee 3: malformed or oversized traceparent, tracestate and baggage headers are
 * served normally, start a fresh root trace (or continue a valid one with a bounded
 * tracestate), never throw, and baggage stays bounded.
 */
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { context, propagation } from '@opentelemetry/api';
import { request as httpRequest } from 'node:http';
import { TracingModule } from 'nestjs-tracing';
import { exportedSpans, InMemorySpanExporter, parentId, traceId } from '../../support/memory-tracing.js';
import { baseUrl, listen, PLATFORMS } from '../../support/platforms.js';

@Controller()
class BaggageController {
  @Get('baggage')
  baggage() {
    const entries = propagation.getBaggage(context.active())?.getAllEntries() ?? [];
    return {
      count: entries.length,
      chars: entries.reduce(
        (sum, [key, entry]) => sum + key.length + entry.value.length + (entry.metadata?.toString().length ?? 0),
        0,
      ),
      longest: Math.max(0, ...entries.map(([, entry]) => entry.value.length)),
    };
  }
}

const VALID_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const VALID_SPAN = '00f067aa0ba902b7';
const KB10 = 'x'.repeat(10 * 1024);

/** Raw http.request: fetch and supertest refuse some of these header values. */
function get(
  url: string,
  path: string,
  headers: Record<string, string | string[]>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const HOSTILE_TRACEPARENTS: Array<[string, string]> = [
  ['garbage', 'zz-garbage-not-a-traceparent'],
  ['forbidden version ff', `ff-${VALID_TRACE}-${VALID_SPAN}-01`],
  ['wrong field lengths', `00-${VALID_TRACE}0-${VALID_SPAN}-01`],
  ['all-zero trace id', `00-${'0'.repeat(32)}-${VALID_SPAN}-01`],
  ['all-zero span id', `00-${VALID_TRACE}-${'0'.repeat(16)}-01`],
  ['version 00 with extra fields', `00-${VALID_TRACE}-${VALID_SPAN}-01-extra`],
  ['10 KB of garbage', KB10],
  ['10 KB under a future version, flags not followed by a dash', `cc-${VALID_TRACE}-${VALID_SPAN}-01${KB10}`],
  ['non-ASCII', `00-${VALID_TRACE.slice(0, 31)}é-${VALID_SPAN}-01`],
];

describe.each(PLATFORMS)('hostile propagation headers on %s', (platform) => {
  let app: INestApplication;
  let url: string;
  const exporter = new InMemorySpanExporter();
  const serverSpans = async () =>
    (await exportedSpans(app, exporter)).filter((s) => s.attributes['url.path'] === '/baggage');

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TracingModule.forRoot({ serviceName: 'hostile', exporter, autoTrace: false })],
      controllers: [BaggageController],
    }).compile();
    app = await listen(moduleRef, platform);
    url = baseUrl(app);
  });
  afterAll(() => app.close());
  beforeEach(() => exporter.reset());

  it.each(HOSTILE_TRACEPARENTS)('traceparent %s: served, with a fresh root trace', async (_name, traceparent) => {
    const res = await get(url, '/baggage', { traceparent, tracestate: 'vendor=value' });
    expect(res.status).toBe(200);
    const [span, ...others] = await serverSpans();
    expect(others).toEqual([]);
    expect(parentId(span!)).toBeUndefined();
    expect(traceId(span!)).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId(span!)).not.toBe(VALID_TRACE);
    expect(traceId(span!)).not.toBe('0'.repeat(32));
    expect(span!.spanContext().traceState).toBeUndefined();
  });

  it('a 10 KB traceparent of a future version continues the trace: W3C accepts later versions at any length', async () => {
    const res = await get(url, '/baggage', { traceparent: `cc-${VALID_TRACE}-${VALID_SPAN}-01-${KB10}` });
    expect(res.status).toBe(200);
    const [span] = await serverSpans();
    expect(traceId(span!)).toBe(VALID_TRACE);
    expect(parentId(span!)).toBe(VALID_SPAN);
  });

  it('a valid traceparent with a 10 KB tracestate continues the trace, keeping at most 512 characters of it', async () => {
    const members = Array.from({ length: 400 }, (_, i) => `v${i}=${'a'.repeat(20)}`).join(',');
    for (const tracestate of [members, `big=${KB10}`, `${KB10},ok=1`, '=,=,,,==', `${'k'.repeat(300)}=v`]) {
      exporter.reset();
      const res = await get(url, '/baggage', { traceparent: `00-${VALID_TRACE}-${VALID_SPAN}-01`, tracestate });
      expect(res.status).toBe(200);
      const [span] = await serverSpans();
      expect(traceId(span!)).toBe(VALID_TRACE);
      expect(parentId(span!)).toBe(VALID_SPAN);
      const kept = span!.spanContext().traceState?.serialize() ?? '';
      expect(kept.length).toBeLessThanOrEqual(512);
      // what the span holds is the bounded value, not the 10 KB header
      expect(JSON.stringify(span!.spanContext().traceState ?? '').length).toBeLessThan(2048);
    }
  });

  it('keeps baggage bounded: 180 entries, 4096 characters an entry, 8192 in all', async () => {
    const cases: Record<string, string> = {
      'one 10 KB entry': `big=${KB10}`,
      'many entries': Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join(','),
      'many 100-character entries': Array.from({ length: 120 }, (_, i) => `k${i}=${'v'.repeat(100)}`).join(','),
      'a 10 KB property': `k=v;${KB10}`,
      'malformed percent-encoding': 'a=%E0%A4%A,b=%,c=ok',
      garbage: ';;;,,,===,\u00ff',
    };
    for (const [name, baggage] of Object.entries(cases)) {
      const res = await get(url, '/baggage', { baggage });
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      const seen = JSON.parse(res.body) as { count: number; chars: number; longest: number };
      expect({ name, ok: seen.count <= 180 && seen.chars <= 8192 && seen.longest <= 4096 }).toEqual({ name, ok: true });
    }
    const many = JSON.parse((await get(url, '/baggage', { baggage: cases['many entries']! })).body) as {
      count: number;
    };
    expect(many.count).toBe(180);
  });

  it('survives all of it at once, repeated headers included', async () => {
    const res = await get(url, '/baggage', {
      // (Node answers 431 itself past 16 KB of headers, so each part is a few KB)
      traceparent: [`cc-${VALID_TRACE}-${VALID_SPAN}-01-${'x'.repeat(5000)}`, 'zz'],
      tracestate: ['y'.repeat(2000), `a=${'b'.repeat(1000)}`],
      baggage: [`a=${'c'.repeat(2000)}`, Array.from({ length: 300 }, (_, i) => `k${i}=v`).join(',')],
    });
    expect(res.status).toBe(200);
    const [span] = await serverSpans();
    expect(parentId(span!)).toBeUndefined();
  });
});
