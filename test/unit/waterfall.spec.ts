import type { JaegerSpan, JaegerTrace } from 'nestjs-tracing';
import { renderWaterfall } from '../../lib/render/waterfall.js';

const T0 = 1_767_225_600_000_000;

function span(
  spanID: string,
  operationName: string,
  startMs: number,
  durationMs: number,
  processID: string,
  parent?: string,
  error = false,
): JaegerSpan {
  return {
    traceID: 'abc123',
    spanID,
    operationName,
    references: parent ? [{ refType: 'CHILD_OF', traceID: 'abc123', spanID: parent }] : [],
    flags: 1,
    startTime: T0 + startMs * 1000,
    duration: durationMs * 1000,
    tags: error ? [{ key: 'error', type: 'bool', value: true }] : [],
    logs: [],
    processID,
    warnings: null,
  };
}

const TRACE: JaegerTrace = {
  traceID: 'abc123',
  processes: { p1: { serviceName: 'gateway', tags: [] }, p2: { serviceName: 'orders', tags: [] } },
  warnings: null,
  spans: [
    span('s4', 'SELECT orders', 30, 50.25, 'p2', 's3', true),
    span('s1', 'GET /orders', 0, 100, 'p1'),
    span('s3', 'GET /orders/:id', 20, 65, 'p2', 's1'),
    span('s2', 'auth', 2, 10, 'p1', 's1'),
  ],
};

const ESC = String.fromCharCode(27);
const stripAnsi = (text: string): string => text.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');

describe('renderWaterfall', () => {
  it('draws the span tree on a timeline, children by start time, errors marked', () => {
    expect(renderWaterfall([TRACE], { width: 80 })).toBe(
      [
        'trace abc123 · GET /orders · 100.0 ms · 4 spans · gateway, orders · 1 error ✗',
        'gateway: GET /orders                         100.0 ms │████████████████████████│',
        '├─ gateway: auth                              10.0 ms │██                      │',
        '└─ orders: GET /orders/:id                    65.0 ms │    ████████████████    │',
        '   └─ orders: SELECT orders ✗                 50.3 ms │       ████████████     │',
        '',
      ].join('\n'),
    );
  });

  it('truncates names with … to fit the width, keeping the error mark', () => {
    const lines = renderWaterfall([TRACE], { width: 40 }).trimEnd().split('\n');
    expect(lines).toEqual([
      'trace abc123 · GET /orders · 100.0 ms ·…',
      'gateway: GET /o… 100.0 ms │████████████│',
      '├─ gateway: auth  10.0 ms │█           │',
      '└─ orders: GET …  65.0 ms │  ████████  │',
      '   └─ orders:… ✗  50.3 ms │   ██████   │',
    ]);
  });

  it.each([40, 57, 100, 160])('keeps every line within %i columns', (width) => {
    const long = { ...TRACE, spans: [...TRACE.spans, span('s5', 'x'.repeat(300), 99, 0.001, 'p2', 's4')] };
    for (const line of stripAnsi(renderWaterfall([long], { width, color: true }))
      .trimEnd()
      .split('\n')) {
      expect(Array.from(line).length).toBeLessThanOrEqual(width);
    }
  });

  it('colors services and errors only when asked', () => {
    const colored = renderWaterfall([TRACE], { width: 80, color: true });
    expect(colored).toContain('\x1b[36mgateway\x1b[0m');
    expect(colored).toContain('\x1b[35morders\x1b[0m');
    expect(colored).toContain('\x1b[31m ✗\x1b[0m');
    expect(stripAnsi(colored)).toBe(renderWaterfall([TRACE], { width: 80 }));
    expect(renderWaterfall([TRACE])).not.toContain('\x1b[');
  });

  it('shows a span whose parent is missing as a root, and separates traces by a blank line', () => {
    const orphan: JaegerTrace = { ...TRACE, traceID: 'def456', spans: [span('o1', 'late work', 0, 1, 'p2', 'gone')] };
    expect(renderWaterfall([orphan, orphan], { width: 60 })).toBe(
      [
        'trace def456 · late work · 1.0 ms · 1 span · orders',
        'orders: late work                1.0 ms │██████████████████│',
        '',
        'trace def456 · late work · 1.0 ms · 1 span · orders',
        'orders: late work                1.0 ms │██████████████████│',
        '',
      ].join('\n'),
    );
  });
});
