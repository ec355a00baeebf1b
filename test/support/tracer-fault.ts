import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * A span processor (the public `spanProcessors` option) that makes the app's tracer fail
 * while `failing` is set: the SDK calls onStart inside `tracer.startSpan()` without catching,
 * so every span start throws, as a broken tracer would.
 */
export class TracerFault implements SpanProcessor {
  failing = false;

  onStart(_span: Span, _parent: Context): void {
    if (this.failing) throw new Error('tracer down');
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
