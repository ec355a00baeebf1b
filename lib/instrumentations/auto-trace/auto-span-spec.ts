import type { Attributes } from '@opentelemetry/api';
import { getSpanAttrParams } from '../../decorators/span-attr.decorator.js';
import { createSpanSpec, type SpanSpec } from '../../engine/span-spec.js';

/** What `nestjs.type` says a span is; names as `@opentelemetry/instrumentation-nestjs-core` uses them. */
export type NestType =
  'handler' | 'guard' | 'pipe' | 'interceptor' | 'filter' | 'middleware' | 'provider' | (string & Record<never, never>);

/**
 * The span of an automatic method: named `ClassName.method` exactly as `@Trace()` names
 * it, with `code.function.name`, `nestjs.type` and any `@SpanAttr()` parameters; built
 * once per method at startup, never per call.
 */
export function autoSpanSpec(
  target: abstract new (...args: never[]) => unknown,
  key: string,
  type: NestType,
  attributes: Attributes = {},
): SpanSpec {
  return createSpanSpec(
    target.name,
    key,
    undefined,
    { attributes: { 'nestjs.type': type, ...attributes } },
    getSpanAttrParams(target.prototype as object, key),
  );
}
