import { SpanKind, type Attributes, type SpanOptions } from '@opentelemetry/api';

export interface SpanAttrParam {
  index: number;
  key: string;
  map?: (value: any) => unknown;
}

/** Everything about a traced method's span that can be known at decoration time. */
export interface SpanSpec {
  name: string;
  options: SpanOptions;
  params: SpanAttrParam[];
}

export interface TraceOptions {
  kind?: SpanKind;
  attributes?: Attributes;
}

export function createSpanSpec(
  className: string,
  methodName: string,
  name: string | undefined,
  options: TraceOptions,
  params: SpanAttrParam[],
): SpanSpec {
  const qualified = `${className}.${methodName}`;
  return {
    name: name ?? qualified,
    options: {
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes: { 'code.function.name': qualified, 'code.namespace': className, ...options.attributes },
    },
    params,
  };
}
