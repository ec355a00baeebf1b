import { createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { LIGHT_ROOT } from '../../lib/runtime/light-context.js';

describe('light context', () => {
  const a = createContextKey('a');
  const b = createContextKey('b');

  it('reads, sets and deletes values as the API context does, never changing a context it came from', () => {
    for (const root of [ROOT_CONTEXT, LIGHT_ROOT]) {
      const one = root.setValue(a, 1);
      const two = one.setValue(b, 2);
      const replaced = two.setValue(a, 3);
      const deleted = replaced.deleteValue(a);
      expect([root.getValue(a), one.getValue(a), one.getValue(b)]).toEqual([undefined, 1, undefined]);
      expect([two.getValue(a), two.getValue(b)]).toEqual([1, 2]);
      expect([replaced.getValue(a), replaced.getValue(b)]).toEqual([3, 2]);
      expect([deleted.getValue(a), deleted.getValue(b)]).toEqual([undefined, 2]);
      expect(deleted.deleteValue(a).getValue(b)).toBe(2);
    }
  });

  it('carries spans for the trace API', () => {
    const span = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });
    const ctx = trace.setSpan(LIGHT_ROOT, span);
    expect(trace.getSpan(ctx)).toBe(span);
    expect(trace.getSpan(trace.deleteSpan(ctx))).toBeUndefined();
  });
});
