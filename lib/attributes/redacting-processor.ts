import type { AttributeValue, Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { REDACTED, type Redactor } from './redact.js';

/** Keeps the value's shape: semconv header attributes are string arrays. */
export function redacted(value: unknown): AttributeValue {
  return Array.isArray(value) ? [REDACTED] : REDACTED;
}

/**
 * The last word on sensitive data: just before a span ends, every attribute of the span
 * and of its events whose key matches `redact` is replaced by `[REDACTED]`, whoever set
 * it (the library, user code calling span.setAttribute, another instrumentation).
 * It runs first among the provider's processors, so no exporter sees the original value.
 */
export class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly redactor: Redactor) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnding(span: Span): void {
    if (this.redactor.patterns.length === 0) return;
    try {
      for (const key of Object.keys(span.attributes)) {
        if (this.redactor.matches(key)) span.setAttribute(key, redacted(span.attributes[key]));
      }
      for (const event of span.events) {
        const attributes = event.attributes as Record<string, unknown> | undefined;
        if (!attributes) continue;
        for (const key of Object.keys(attributes))
          if (this.redactor.matches(key)) attributes[key] = redacted(attributes[key]);
      }
    } catch {
      // a span implementation we do not know: leave it as it is rather than break end()
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
