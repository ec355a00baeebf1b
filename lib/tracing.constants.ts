export const TRACING_MODULE_OPTIONS = Symbol('nestjs-tracing:options');
export const SPAN_ATTR_METADATA = 'nestjs-tracing:span-attr';
export const TRACER_NAME = 'nestjs-tracing';
