import { SpanKind, type Attributes, type SpanOptions } from '@opentelemetry/api';

export interface SpanAttrParam {
  index: number;
  key: string;
  map?: (value: unknown) => unknown;
}

/** Everything about a traced method's span that can be known at decoration time. */
export interface SpanSpec {
  name: string;
  /** Kind and attributes together, for a sampler we don't know (it may look at them). */
  options: SpanOptions;
  /** Kind alone: with our own sampler, attributes are set only on spans that record. */
  kindOnly: SpanOptions;
  attributes: Attributes;
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
  const kind = options.kind ?? SpanKind.INTERNAL;
  // semconv: `code.function.name` is fully qualified; `code.namespace` is deprecated in its favour
  const attributes = { 'code.function.name': qualified, ...options.attributes };
  return { name: name ?? qualified, options: { kind, attributes }, kindOnly: { kind }, attributes, params };
}

/** A spec for a span started by name at run time (TraceService.startActiveSpan). */
export function namedSpanSpec(name: string, options: SpanOptions): SpanSpec {
  const attributes = options.attributes ?? {};
  return { name, options, kindOnly: { ...options, attributes: undefined }, attributes, params: [] };
}
