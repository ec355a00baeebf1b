import { SPAN_ATTR_METADATA } from '../tracing.constants.js';
import type { SpanAttrParam } from '../engine/span-spec.js';

/**
 * Records this argument on the method's span as attribute `key`. Primitives and arrays of
 * primitives are kept as they are; anything else goes through `map`, else becomes JSON,
 * capped at `attributeValueLengthLimit`. `undefined` is skipped. Needs a span on the method:
 * `@Trace()` on it or its class, or an automatic span (`autoTrace`). `T` is whatever `map`
 * declares it takes.
 */
export function SpanAttr<T>(key: string, map?: (value: T) => unknown): ParameterDecorator {
  if (typeof key !== 'string' || key === '') throw new Error('@SpanAttr(key) needs a non-empty attribute key');
  return (target, propertyKey, index) => {
    if (propertyKey === undefined)
      throw new Error('@SpanAttr() belongs on a method parameter, not a constructor parameter');
    const params = getSpanAttrParams(target, propertyKey);
    Reflect.defineMetadata(
      SPAN_ATTR_METADATA,
      [...params, { index, key, map: map as SpanAttrParam['map'] }],
      target,
      propertyKey,
    );
  };
}

export function getSpanAttrParams(target: object, propertyKey: string | symbol): SpanAttrParam[] {
  return (Reflect.getMetadata(SPAN_ATTR_METADATA, target, propertyKey) as SpanAttrParam[] | undefined) ?? [];
}
