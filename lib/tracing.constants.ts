/** The options object given to forRoot() (or made by forRootAsync()), as the user wrote it. */
export const TRACING_MODULE_OPTIONS = Symbol('nestjs-tracing:module-options');
/** The options with every default applied and every value checked: inject it to read them. */
export const TRACING_OPTIONS = Symbol('nestjs-tracing:options');
export const SPAN_ATTR_METADATA = 'nestjs-tracing:span-attr';
export const TRACER_NAME = 'nestjs-tracing';

/** The injection token of the resolved options (`@Inject(getTracingOptionsToken())`). */
export const getTracingOptionsToken = (): symbol => TRACING_OPTIONS;
/** Marks the library's own modules: nothing they declare gets an automatic span. */
export const OWN_MODULE = Symbol('nestjs-tracing:own-module');
