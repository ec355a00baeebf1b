import { resolveOptions } from '../../lib/options/resolve-options.js';

/* zipkin, otlp.protocol (and its neighbours) and propagators: defaults, environment, bad values. */
describe('wire options', () => {
  describe('otlp.protocol', () => {
    it('defaults to http/protobuf, then follows the traces-specific variable, then the general one', () => {
      expect(resolveOptions({}, {}).otlp.protocol).toBe('http/protobuf');
      expect(resolveOptions({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).otlp.protocol).toBe('grpc');
      const both = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' };
      expect(resolveOptions({}, both).otlp.protocol).toBe('http/json');
      expect(resolveOptions({ otlp: { protocol: 'grpc' } }, both).otlp.protocol).toBe('grpc');
    });

    it('rejects an unknown protocol in code and in the environment, listing the valid ones', () => {
      expect(() => resolveOptions({ otlp: { protocol: 'http' as never } }, {})).toThrow(
        'option "otlp.protocol" must be one of "http/protobuf", "http/json", "grpc", got "http"',
      );
      expect(() => resolveOptions({}, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' })).toThrow(
        /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be one of http\/protobuf, http\/json, grpc, got "thrift"/,
      );
    });

    it.each([
      [{ compression: 'br' as never }, /option "otlp.compression" must be "gzip" or "none"/],
      [
        { headers: { 'x-key': 1 as never } },
        /option "otlp.headers" must be an object of header names to string values/,
      ],
      [{ timeoutMillis: 0 }, /option "otlp.timeoutMillis" must be a positive integer/],
      [{ tls: { cert: 'PEM' } }, /option "otlp.tls" must be cert and key together/],
      [{ tls: { ca: 42 as never } }, /option "otlp.tls" must be an object \{ ca\?, cert\?, key\? \} of PEM strings/],
      [{ url: 'http://collector:4318/v1/traces', tls: { ca: 'PEM' } }, /option "otlp.url" must be an https:\/\/ URL/],
      [{ url: 'collector:4317' }, /option "otlp.url" must be an http:\/\/ or https:\/\/ URL/],
    ])('rejects otlp %j', (otlp, message) => {
      expect(() => resolveOptions({ otlp }, {})).toThrow(message);
    });
  });

  describe('zipkin', () => {
    it('is an exporter name, in code and in OTEL_TRACES_EXPORTER', () => {
      expect(resolveOptions({ exporter: 'zipkin' }, {}).exporters).toEqual(['zipkin']);
      expect(resolveOptions({}, { OTEL_TRACES_EXPORTER: 'zipkin,otlp' }).exporters).toEqual(['zipkin', 'otlp']);
    });

    it('sends to zipkin.url, else OTEL_EXPORTER_ZIPKIN_ENDPOINT, else port 9411 of localhost', () => {
      expect(resolveOptions({}, {}).zipkin.url).toBe('http://localhost:9411/api/v2/spans');
      const env = { OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans' };
      expect(resolveOptions({}, env).zipkin.url).toBe('http://zipkin:9411/api/v2/spans');
      expect(resolveOptions({ zipkin: { url: 'https://z.example/api/v2/spans' } }, env).zipkin.url).toBe(
        'https://z.example/api/v2/spans',
      );
    });

    it('rejects a URL that is not http(s), naming where it came from', () => {
      expect(() => resolveOptions({ zipkin: { url: 'zipkin:9411' } }, {})).toThrow(/option "zipkin.url" must be/);
      expect(() => resolveOptions({}, { OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'udp://z' })).toThrow(
        /OTEL_EXPORTER_ZIPKIN_ENDPOINT must be an http/,
      );
    });
  });

  describe('propagators', () => {
    it('defaults to tracecontext and baggage; OTEL_PROPAGATORS and the option override it, in order', () => {
      expect(resolveOptions({}, {}).propagators).toEqual(['tracecontext', 'baggage']);
      expect(resolveOptions({}, { OTEL_PROPAGATORS: ' b3multi, tracecontext ,jaeger' }).propagators).toEqual([
        'b3multi',
        'tracecontext',
        'jaeger',
      ]);
      expect(resolveOptions({ propagators: ['b3', 'b3'] }, { OTEL_PROPAGATORS: 'jaeger' }).propagators).toEqual(['b3']);
      expect(resolveOptions({ propagators: [] }, {}).propagators).toEqual([]);
    });

    it("reads 'none' in OTEL_PROPAGATORS as no propagation, as the OpenTelemetry specification does", () => {
      expect(resolveOptions({}, { OTEL_PROPAGATORS: 'none' }).propagators).toEqual([]);
    });

    it('stops the app on an unknown name, listing the valid ones', () => {
      expect(() => resolveOptions({ propagators: ['tracecontext', 'xray' as never] }, {})).toThrow(
        'option "propagators" must be an array of "tracecontext", "baggage", "b3", "b3multi", "jaeger", got ["tracecontext","xray"]',
      );
      expect(() => resolveOptions({ propagators: 'b3' as never }, {})).toThrow(/option "propagators" must be an array/);
      expect(() => resolveOptions({}, { OTEL_PROPAGATORS: 'tracecontext,ottrace' })).toThrow(
        'environment variable OTEL_PROPAGATORS must be a list of tracecontext, baggage, b3, b3multi, jaeger (or none), got "ottrace"',
      );
    });
  });
});
