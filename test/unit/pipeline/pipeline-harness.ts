import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { Redactor } from '../../../lib/attributes/redact.js';
import { RecordProvider } from '../../../lib/pipeline/record-provider.js';
import type { RecordLimits } from '../../../lib/pipeline/limits.js';
import type { SpanRecord } from '../../../lib/pipeline/span-record.js';

/** A record provider whose ended spans are kept in `ended`, for tests of the pipeline's parts. */
export function testPipeline(
  overrides: Partial<RecordLimits> & { sampleRatio?: number; processors?: SpanProcessor[] } = {},
) {
  const ended: SpanRecord[] = [];
  const keep: SpanProcessor = {
    onStart: () => {},
    onEnd: (span: ReadableSpan) => void ended.push(span as SpanRecord),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const provider = new RecordProvider({
    resource: resourceFromAttributes({ 'service.name': 'pipeline-test', 'deployment.environment': 'test', pid: 42 }),
    sampleRatio: overrides.sampleRatio ?? 1,
    limits: {
      attributeValueLengthLimit: 2048,
      attributeCountLimit: 128,
      attributePerEventCountLimit: 128,
      attributePerLinkCountLimit: 128,
      eventCountLimit: 128,
      linkCountLimit: 128,
      redactor: new Redactor([/^authorization$/i, /password/i]),
      ...overrides,
    },
    processors: [...(overrides.processors ?? []), keep],
  });
  return { provider, ended };
}
