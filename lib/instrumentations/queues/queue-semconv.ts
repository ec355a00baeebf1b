import type { Attributes } from '@opentelemetry/api';
import {
  MESSAGING_DESTINATION_NAME,
  MESSAGING_OPERATION_NAME,
  MESSAGING_OPERATION_TYPE,
  MESSAGING_SYSTEM,
} from '../microservices/semconv.js';

/** Messaging semantic conventions, plus bullmq's own job fields under `messaging.bullmq.`. */
export const MESSAGE_ID = 'messaging.message.id';
export const BATCH_COUNT = 'messaging.batch.message_count';
export const JOB_NAME = 'messaging.bullmq.job.name';
export const JOB_ATTEMPT = 'messaging.bullmq.job.attempt';

export function queueAttributes(queue: string, type: 'send' | 'process', operation: string): Attributes {
  return {
    [MESSAGING_SYSTEM]: 'bullmq',
    [MESSAGING_DESTINATION_NAME]: queue,
    [MESSAGING_OPERATION_TYPE]: type,
    [MESSAGING_OPERATION_NAME]: operation,
  };
}
