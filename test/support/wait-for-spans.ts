import type { INestApplicationContext } from '@nestjs/common';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { SpanRecorder } from 'nestjs-tracing/testing';
import { traceId } from './memory-tracing.js';

/** Forgets every span the app (with TracingTestingModule) recorded so far. */
export function freshSpans(app: INestApplicationContext): void {
  app.get(SpanRecorder).reset();
}

/** Polls the app's SpanRecorder until `ready` holds; spans of events end after the sender moved on. */
export async function waitForSpans(
  app: INestApplicationContext,
  ready: (spans: ReadableSpan[]) => boolean,
  timeoutMs = 5000,
): Promise<ReadableSpan[]> {
  const recorder = app.get(SpanRecorder);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = recorder.spans();
    if (ready(spans)) return spans;
    if (Date.now() > deadline) {
      throw new Error(
        `spans not ready after ${timeoutMs} ms; have: ${spans.map((s) => `${s.name}(${traceId(s).slice(0, 6)})`).join(', ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
