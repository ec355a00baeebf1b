import { trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';
import { setSafeAttribute } from '../attributes/set-safe-attribute.js';
import { runtimeIn, withRuntime } from '../runtime/active-runtime.js';
import type { TracingRuntime } from '../runtime/tracing-runtime.js';
import type { SpanSpec } from './span-spec.js';

/**
 * Starts `spec`'s span beneath `parent`, with its fixed attributes and `@SpanAttr`
 * arguments on a recording span; undefined where our sampler would record nothing (then
 * the caller makes a plain call). Throws what a broken tracer throws.
 */
export function startSpanIn(
  parent: Context,
  runtime: TracingRuntime,
  spec: SpanSpec,
  args: ArrayLike<unknown>,
): Span | undefined {
  if (runtime.ownsSampler) {
    if (willNotRecord(parent, runtime)) return undefined;
    const span = runtime.tracer.startSpan(spec.name, spec.kindOnly, parent);
    if (span.isRecording()) {
      span.setAttributes(spec.attributes);
      if (spec.params.length > 0) recordParams(span, spec, args, runtime);
    }
    return span;
  }
  const span = runtime.tracer.startSpan(spec.name, spec.options, parent);
  if (spec.params.length > 0 && span.isRecording()) recordParams(span, spec, args, runtime);
  return span;
}

/** The context a span's work runs in: the span active and, for a root span (a job, a script), its app. */
export function spanContextOf(parent: Context, span: Span, runtime: TracingRuntime): Context {
  const spanContext = trace.setSpan(parent, span);
  return runtimeIn(parent) === undefined ? withRuntime(spanContext, runtime) : spanContext;
}

/**
 * Our parent-based sampler never records a child of an unsampled parent, nor a root at
 * ratio 0: skip the span instead of paying for one that records nothing. (A skipped root
 * sends no "not sampled" traceparent downstream; the next service decides for itself.)
 */
function willNotRecord(parent: Context, runtime: TracingRuntime): boolean {
  const span = trace.getSpan(parent);
  if (span === undefined) return runtime.options.sampleRatio === 0;
  return (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0;
}

function recordParams(span: Span, spec: SpanSpec, args: ArrayLike<unknown>, runtime: TracingRuntime): void {
  for (const param of spec.params) {
    let value: unknown = args[param.index];
    if (value === undefined) continue;
    if (param.map) {
      try {
        value = param.map(value);
      } catch (error) {
        runtime.report(`@SpanAttr('${param.key}') map`, error);
        continue;
      }
    }
    setSafeAttribute(span, param.key, value, runtime.options);
  }
}
