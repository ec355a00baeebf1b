import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { parseTraceState, W3CTraceState } from '../../lib/propagation/trace-state.js';
import { parseTraceParent, W3CTraceContextPropagator } from '../../lib/propagation/w3c-trace-context.js';

/*
 * W3C Trace Context Level 1 (Recommendation), §3.2 traceparent and §3.3 tracestate, case by
 * case from the text, plus Level 2's random-trace-id flag. A header field given several times
 * is an array, as a carrier holds it.
 */
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const V00 = `00-${TRACE_ID}-${SPAN_ID}-01`;

const propagator = new W3CTraceContextPropagator();
const extract = (headers: Record<string, string | string[]>) =>
  trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
const roundTrip = (headers: Record<string, string | string[]>) => {
  const out: Record<string, string> = {};
  propagator.inject(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter), out, defaultTextMapSetter);
  return out;
};
const state = (...fields: string[]) => parseTraceState(fields.length === 1 ? fields[0] : fields)?.serialize();

describe('traceparent (§3.2)', () => {
  it('reads version 00: trace-id, parent-id and flags (§3.2.2)', () => {
    expect(parseTraceParent(V00)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 });
    expect(parseTraceParent(`00-${TRACE_ID}-${SPAN_ID}-00`)?.flags).toBe(0);
    expect(extract({ traceparent: V00 })).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, isRemote: true });
  });

  it.each([
    ['version ff is forbidden', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['version not 2 hex digits', `0-${TRACE_ID}-${SPAN_ID}-01`],
    ['version of 3 digits', `000-${TRACE_ID}-${SPAN_ID}-01`],
    ['version with an illegal character', `.0-${TRACE_ID}-${SPAN_ID}-01`],
    ['upper-case hex (HEXDIGLC)', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['all-zero trace-id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['all-zero parent-id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['trace-id too short', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['trace-id too long', `00-${TRACE_ID}0-${SPAN_ID}-01`],
    ['parent-id too short', `00-${TRACE_ID}-${SPAN_ID.slice(1)}-01`],
    ['parent-id too long', `00-${TRACE_ID}-${SPAN_ID}0-01`],
    ['flags too short', `00-${TRACE_ID}-${SPAN_ID}-1`],
    ['flags too long', `00-${TRACE_ID}-${SPAN_ID}-001`],
    ['flags not hex', `00-${TRACE_ID}-${SPAN_ID}-.0`],
    ['version 00 with a trailing character', `${V00}.`],
    ['version 00 with a further field', `${V00}-what-the-future-will-be-like`],
    ['a future version shorter than 55 characters', `cc-${TRACE_ID}-${SPAN_ID}-1`],
    ['a future version whose flags are not followed by a dash', `cc-${TRACE_ID}-${SPAN_ID}-01.what-the-future`],
    ['a vertical tab, which is not OWS', `\v${V00}`],
    ['empty', ''],
  ])('rejects %s, and a request carrying it starts a new trace', (_why, header) => {
    expect(parseTraceParent(header)).toBeUndefined();
    expect(extract({ traceparent: header, tracestate: 'congo=t61rcWkgMzE' })).toBeUndefined();
  });

  it('parses a higher version by its first four fields, whatever follows (§3.2.4)', () => {
    expect(parseTraceParent(`cc-${TRACE_ID}-${SPAN_ID}-01`)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 });
    expect(parseTraceParent(`cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-will-be-like`)?.traceId).toBe(TRACE_ID);
  });

  it('accepts a higher version of any length: no length guard rejects what the spec accepts', () => {
    const long = `cc-${TRACE_ID}-${SPAN_ID}-01-${'x'.repeat(4000)}`;
    expect(parseTraceParent(long)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 });
  });

  it('sends version 00 when it received a higher one (§3.2.4: downgrade the version)', () => {
    expect(roundTrip({ traceparent: `cc-${TRACE_ID}-${SPAN_ID}-01-future` }).traceparent).toBe(V00);
  });

  it('ignores spaces and tabs around the value (OWS)', () => {
    for (const header of [` ${V00}`, `\t${V00}`, `${V00} `, `${V00}\t`, `\t ${V00} \t`]) {
      expect(parseTraceParent(header)?.traceId).toBe(TRACE_ID);
    }
  });

  it('starts a new trace when traceparent is given twice (which one is the caller?)', () => {
    expect(extract({ traceparent: [V00, `00-${'1'.repeat(32)}-${SPAN_ID}-01`] })).toBeUndefined();
    // how node:http hands over a repeated header: joined by ", "
    expect(extract({ traceparent: `${V00}, ${V00}` })).toBeUndefined();
  });

  it('reads the sampled flag by masking, not by value (§3.2.2.5)', () => {
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-09` })?.traceFlags).toBe(TraceFlags.SAMPLED);
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-08` })?.traceFlags).toBe(TraceFlags.NONE);
  });

  it('sends only the flags it knows, as two lower-case hex digits (other flags MUST be zero)', () => {
    expect(roundTrip({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-ff` }).traceparent).toBe(`00-${TRACE_ID}-${SPAN_ID}-03`);
    expect(roundTrip({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-fc` }).traceparent).toBe(`00-${TRACE_ID}-${SPAN_ID}-00`);
  });
});

describe('random-trace-id flag (Level 2, §3.2.2.5.2)', () => {
  const child = (flags: string, childFlags: TraceFlags) => {
    const parent = propagator.extract(
      ROOT_CONTEXT,
      { traceparent: `00-${TRACE_ID}-${SPAN_ID}-${flags}` },
      defaultTextMapGetter,
    );
    // what the SDK does for the next span: same trace, new span id, flags rebuilt from the sampling decision
    const ctx = trace.setSpanContext(parent, { traceId: TRACE_ID, spanId: '00f067aa0ba902b7', traceFlags: childFlags });
    const out: Record<string, string> = {};
    propagator.inject(ctx, out, defaultTextMapSetter);
    return out.traceparent;
  };

  it('is carried on to the next hop although the SDK rebuilt the span’s flags', () => {
    expect(child('03', TraceFlags.SAMPLED)).toBe(`00-${TRACE_ID}-00f067aa0ba902b7-03`);
    expect(child('02', TraceFlags.NONE)).toBe(`00-${TRACE_ID}-00f067aa0ba902b7-02`);
  });

  it('is not invented: absent in, absent out', () => {
    expect(child('01', TraceFlags.SAMPLED)).toBe(`00-${TRACE_ID}-00f067aa0ba902b7-01`);
  });

  it('belongs to its trace: a new trace started in the same context does not inherit it', () => {
    const parent = propagator.extract(
      ROOT_CONTEXT,
      { traceparent: `00-${TRACE_ID}-${SPAN_ID}-03` },
      defaultTextMapGetter,
    );
    const other = trace.setSpanContext(parent, { traceId: '1'.repeat(32), spanId: SPAN_ID, traceFlags: 1 });
    const out: Record<string, string> = {};
    propagator.inject(other, out, defaultTextMapSetter);
    expect(out.traceparent).toBe(`00-${'1'.repeat(32)}-${SPAN_ID}-01`);
  });
});

describe('tracestate (§3.3)', () => {
  it('keeps a valid list, in order, and sends it on unchanged', () => {
    expect(state('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    expect(roundTrip({ traceparent: V00, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' }).tracestate).toBe(
      'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    );
  });

  it('is not read when traceparent is invalid (§3.3: MUST NOT attempt to parse tracestate)', () => {
    expect(roundTrip({ traceparent: 'garbage', tracestate: 'foo=1' })).toEqual({});
  });

  it('combines several tracestate fields in order (RFC 7230 §3.2.2)', () => {
    expect(state('foo=1,bar=2', 'rojo=1,congo=2', 'baz=3')).toBe('foo=1,bar=2,rojo=1,congo=2,baz=3');
    expect(roundTrip({ traceparent: V00, tracestate: ['foo=1', 'bar=2'] }).tracestate).toBe('foo=1,bar=2');
  });

  it('accepts empty and whitespace-only members, and an empty header', () => {
    expect(state('foo=1', '')).toBe('foo=1');
    expect(state('', 'foo=1')).toBe('foo=1');
    expect(state('foo=1 \t , \t bar=2, \t baz=3')).toBe('foo=1,bar=2,baz=3');
    expect(state('foo=1,,  ,bar=2')).toBe('foo=1,bar=2');
    expect(state('')).toBeUndefined();
    expect(extract({ traceparent: V00, tracestate: '' })?.traceState).toBeUndefined();
  });

  it('accepts every character the key and value grammars allow', () => {
    const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
    const value = ' !"#$%&\'()*+-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
    expect(parseTraceState(`${key}=${value}`)?.get(key)).toBe(value);
    expect(parseTraceState(`${key}@a-z0-9_-*/=${value}`)?.get(`${key}@a-z0-9_-*/`)).toBe(value);
  });

  it('accepts multi-tenant keys: tenant-id (1-241, may start with a digit) @ system-id (1-14)', () => {
    expect(state('tenant@system=1')).toBe('tenant@system=1');
    expect(state('0tenant@vendor=1')).toBe('0tenant@vendor=1');
    expect(state('foo=1', `${'t'.repeat(241)}@${'v'.repeat(14)}=1`)).toBe(
      `foo=1,${'t'.repeat(241)}@${'v'.repeat(14)}=1`,
    );
    expect(state('foo=1', `t@${'v'.repeat(14)}=1`)).toBe(`foo=1,t@${'v'.repeat(14)}=1`);
  });

  it('accepts a simple key of 256 characters', () => {
    expect(state('foo=1', `${'z'.repeat(256)}=1`)).toBe(`foo=1,${'z'.repeat(256)}=1`);
  });

  it('accepts 32 members, across several fields', () => {
    const members = Array.from({ length: 32 }, (_, i) => `bar${String(i + 1).padStart(2, '0')}=${i}`);
    const parsed = parseTraceState([members.slice(0, 15).join(','), members.slice(15).join(',')]);
    expect(parsed?.serialize().split(',')).toHaveLength(32);
    expect(parsed?.get('bar01')).toBe('0');
  });

  it('keeps leading spaces of a value (they are part of it) and drops trailing ones (OWS)', () => {
    expect(parseTraceState('foo=  bar  ')?.get('foo')).toBe('  bar');
  });

  it.each([
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=${i}`).join(',')],
    ['33 members across fields', [Array.from({ length: 30 }, (_, i) => `k${i}=1`).join(','), 'x=1,y=2,z=3']],
    ['a key of 257 characters', ['foo=1', `${'z'.repeat(257)}=1`]],
    ['a tenant-id of 242 characters', ['foo=1', `${'t'.repeat(242)}@v=1`]],
    ['a system-id of 15 characters', ['foo=1', `t@${'v'.repeat(15)}=1`]],
    ['an empty tenant-id', 'foo@=1,bar=2'],
    ['an empty system-id', '@foo=1,bar=2'],
    ['two @', 'foo@@bar=1,bar=2'],
    ['two tenants', 'foo@bar@baz=1,bar=2'],
    ['a system-id starting with a digit', 'foo@1ab=1,bar=2'],
    ['an upper-case key', 'FOO=1,bar=2'],
    ['a key starting with a digit (without a tenant)', '1foo=1,bar=2'],
    ['a dot in a key', 'foo.bar=1,bar=2'],
    ['a space inside a member, before "="', 'foo =1,bar=2'],
    ['a member without "="', 'foo,bar=2'],
    ['an empty key', '=1,bar=2'],
    ['an empty value', 'foo=,bar=3'],
    ['a value with "="', 'foo=bar=baz'],
    ['a value of 257 characters', `foo=${'v'.repeat(257)},bar=2`],
    ['a value with a tab', 'foo=a\tb,bar=2'],
    ['a value with a non-ASCII character', 'foo=é,bar=2'],
    ['a key given twice', 'foo=1,foo=1'],
    ['a key given twice, with different values', 'foo=1,foo=2'],
    ['a key given twice across fields', ['foo=1', 'foo=2']],
  ])('discards the whole header for %s, never keeping part of it', (_why, header) => {
    expect(parseTraceState(header)).toBeUndefined();
    const ctx = extract({ traceparent: V00, tracestate: header });
    expect(ctx?.traceId).toBe(TRACE_ID); // failing tracestate MUST NOT affect traceparent
    expect(ctx?.traceState).toBeUndefined();
    expect(roundTrip({ traceparent: V00, tracestate: header }).tracestate).toBeUndefined();
  });

  it('truncates a valid header over 512 characters by whole entries, those over 128 characters first (§3.3.1.5)', () => {
    const small = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(16)}`);
    const large = `big=${'b'.repeat(200)}`;
    const kept = parseTraceState([small.slice(0, 10).join(','), large, small.slice(10).join(',')])!.serialize();
    expect(kept.length).toBeLessThanOrEqual(512);
    expect(kept).not.toContain('big=');
    expect(kept.split(',')).toEqual(small);
    expect(kept.split(',')).toHaveLength(20);
  });

  it('then removes entries from the right until it fits', () => {
    const entries = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(16)}`);
    const kept = parseTraceState(entries.join(','))!.serialize();
    expect(kept).toBe(entries.slice(0, 24).join(',')); // 24 × 20 + 23 commas = 503
  });
});

describe('W3CTraceState mutations (§3.5)', () => {
  it('puts a new or updated key on the left and keeps the others in order', () => {
    const ts = new W3CTraceState().set('congo', 'a').set('rojo', 'b');
    expect(ts.serialize()).toBe('rojo=b,congo=a');
    expect(ts.set('congo', 'c').serialize()).toBe('congo=c,rojo=b');
    expect(ts.unset('rojo').serialize()).toBe('congo=a');
  });

  it('refuses an invalid key or value and a 33rd member, leaving the state as it was', () => {
    const ts = parseTraceState('a=1')!;
    expect(ts.set('A', '1')).toBe(ts);
    expect(ts.set('b', 'x=y')).toBe(ts);
    const full = parseTraceState(Array.from({ length: 32 }, (_, i) => `k${i}=1`).join(','))!;
    expect(full.set('new', '1')).toBe(full);
    expect(full.set('k5', '2').get('k5')).toBe('2');
  });
});
