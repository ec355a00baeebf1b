import type { OtlpOptions, OtlpProtocol, OtlpTlsOptions } from './tracing-options.interface.js';
import { check, checkHeaders, checkUrl, isPlainObject, positiveInt } from './checks.js';
import { invalidEnv } from './messages.js';

const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

/** `otlp` with its protocol decided; what is left unset the OpenTelemetry exporter takes from the environment. */
export interface ResolvedOtlpOptions extends OtlpOptions {
  protocol: OtlpProtocol;
}

export function resolveOtlp(option: OtlpOptions | undefined, env: NodeJS.ProcessEnv): ResolvedOtlpOptions {
  check(option === undefined || isPlainObject(option), 'otlp', 'an object', option);
  const o = option ?? {};
  if (o.url !== undefined) checkUrl('otlp.url', o.url);
  checkHeaders('otlp.headers', o.headers);
  if (o.timeoutMillis !== undefined) positiveInt('otlp.timeoutMillis', o.timeoutMillis, 0);
  check(
    o.compression === undefined || o.compression === 'gzip' || o.compression === 'none',
    'otlp.compression',
    '"gzip" or "none"',
    o.compression,
  );
  if (o.tls !== undefined) checkTls(o.tls, o.url);
  return { ...o, protocol: resolveProtocol(o.protocol, env) };
}

function resolveProtocol(protocol: unknown, env: NodeJS.ProcessEnv): OtlpProtocol {
  const expected = PROTOCOLS.map((p) => `"${p}"`).join(', ');
  if (protocol !== undefined) {
    check(PROTOCOLS.includes(protocol as OtlpProtocol), 'otlp.protocol', `one of ${expected}`, protocol);
    return protocol as OtlpProtocol;
  }
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (!PROTOCOLS.includes(value as OtlpProtocol))
      throw new Error(invalidEnv(name, `one of ${PROTOCOLS.join(', ')}`, value));
    return value as OtlpProtocol;
  }
  return 'http/protobuf';
}

function checkTls(tls: OtlpTlsOptions, url: string | undefined): void {
  const pem = (v: unknown): boolean => v === undefined || typeof v === 'string' || Buffer.isBuffer(v);
  check(
    isPlainObject(tls) && pem(tls.ca) && pem(tls.cert) && pem(tls.key),
    'otlp.tls',
    'an object { ca?, cert?, key? } of PEM strings or Buffers',
    tls,
  );
  check(
    (tls.cert === undefined) === (tls.key === undefined),
    'otlp.tls',
    'cert and key together (mutual TLS needs both)',
    Object.keys(tls),
  );
  check(url === undefined || url.startsWith('https:'), 'otlp.url', 'an https:// URL when otlp.tls is set', url);
}
