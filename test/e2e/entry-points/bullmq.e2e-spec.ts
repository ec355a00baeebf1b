import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { BullModule, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { Queue, Worker, type Job } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { TraceService, type TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { BROKERS, describeWithBroker } from '../../support/brokers.js';
import { waitFor } from '../../support/wait-for.js';

const connection = { host: BROKERS.redis.host, port: BROKERS.redis.port };
const QUEUE = `tracing-jobs-${randomBytes(4).toString('hex')}`;
const PLAIN = `${QUEUE}-plain`;

@Processor(QUEUE, { concurrency: 5 })
class JobsProcessor extends WorkerHost {
  readonly seen: Array<{ id?: string; data: unknown; attempt: number }> = [];

  async process(job: Job): Promise<unknown> {
    this.seen.push({ id: job.id, data: job.data, attempt: job.attemptsMade + 1 });
    if ((job.data as { failFirst?: boolean }).failFirst && job.attemptsMade === 0)
      throw new Error('first attempt failed');
    await new Promise((resolve) => setImmediate(resolve));
    return { done: job.id };
  }
}

@Injectable()
class Producer {
  constructor(
    @InjectQueue(QUEUE) readonly queue: Queue,
    @InjectQueue(PLAIN) readonly plain: Queue,
  ) {}
}

async function boot(options: TracingModuleOptions = {}, withProcessor = true) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TracingTestingModule.forRoot({ serviceName: 'jobs', ...options }),
      BullModule.forRoot({ connection }),
      BullModule.registerQueue({ name: QUEUE }, { name: PLAIN }),
    ],
    providers: [Producer, ...(withProcessor ? [JobsProcessor] : [])],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  const app: INestApplicationContext = moduleRef;
  return { app, recorder: app.get(SpanRecorder), producer: app.get(Producer), tracing: app.get(TraceService) };
}

/** Runs `work` inside a root span of the app, as a request would. */
function inRequest<T>(tracing: TraceService, work: (span: Span) => Promise<T>): Promise<T> {
  return tracing.startActiveSpan('request', work);
}

await describeWithBroker(BROKERS.redis, 'BullMQ queue spans', () => {
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    for (const name of [QUEUE, PLAIN]) {
      const queue = new Queue(name, { connection });
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('carries the producer span with the job: PRODUCER beneath the caller, CONSUMER beneath it; data untouched', async () => {
    let recorder: SpanRecorder;
    let producer: Producer;
    let tracing: TraceService;
    const original = JobsProcessor.prototype.process;
    ({ app, recorder, producer, tracing } = await boot());
    expect(JobsProcessor.prototype.process).not.toBe(original);
    expect([JobsProcessor.prototype.process.name, JobsProcessor.prototype.process.length]).toEqual(['process', 1]);
    const data = { orderId: 7, items: ['a', 'b'] };
    const job = await inRequest(tracing, () => producer.queue.add('invoice', data, { removeOnComplete: true }));
    const processor = app.get(JobsProcessor);
    await waitFor(() => recorder.findAll(`process ${QUEUE}`).length === 1, 'the consumer span');
    expect(processor.seen).toEqual([{ id: job.id, data, attempt: 1 }]);
    expect(Object.keys(data)).toEqual(['orderId', 'items']);

    const request = recorder.find('request');
    const send = recorder.find(`send ${QUEUE}`);
    const process = recorder.find(`process ${QUEUE}`);
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.destination.name': QUEUE,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'add',
      'messaging.bullmq.job.name': 'invoice',
      'messaging.message.id': job.id,
    });
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(process.attributes).toMatchObject({
      'code.function.name': 'JobsProcessor.process',
      'nestjs.type': 'processor',
      'messaging.operation.type': 'process',
      'messaging.message.id': job.id,
      'messaging.bullmq.job.attempt': 1,
    });
  });

  it('traces addBulk as one PRODUCER span whose context every job carries', async () => {
    let recorder: SpanRecorder;
    let producer: Producer;
    let tracing: TraceService;
    ({ app, recorder, producer, tracing } = await boot());
    const jobs = [1, 2, 3].map((n) => ({ name: 'bulk', data: { n } }));
    await inRequest(tracing, () => producer.queue.addBulk(jobs));
    expect(jobs.map((j) => Object.keys(j))).toEqual([0, 1, 2].map(() => ['name', 'data']));
    await waitFor(() => recorder.findAll(`process ${QUEUE}`).length === 3, 'three consumer spans');
    const send = recorder.find(`send ${QUEUE}`);
    expect(send.attributes).toMatchObject({
      'messaging.operation.name': 'addBulk',
      'messaging.batch.message_count': 3,
    });
    for (const process of recorder.findAll(`process ${QUEUE}`)) {
      expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    }
  });

  it('records a failed attempt, and makes the retry a trace of its own linked to the producer', async () => {
    let recorder: SpanRecorder;
    let producer: Producer;
    let tracing: TraceService;
    ({ app, recorder, producer, tracing } = await boot());
    await inRequest(tracing, () => producer.queue.add('retried', { failFirst: true }, { attempts: 2 }));
    await waitFor(() => recorder.findAll(`process ${QUEUE}`).length === 2, 'two attempts');
    const send = recorder.find(`send ${QUEUE}`);
    const [first, retry] = recorder.findAll(`process ${QUEUE}`);
    expect(first?.status.code).toBe(SpanStatusCode.ERROR);
    expect(first?.events.map((e) => e.name)).toEqual(['exception']);
    expect(first?.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(retry?.status.code).toBe(SpanStatusCode.UNSET);
    expect(retry?.attributes['messaging.bullmq.job.attempt']).toBe(2);
    expect(retry?.parentSpanContext).toBeUndefined();
    expect(retry?.spanContext().traceId).not.toBe(send.spanContext().traceId);
    expect(retry?.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
  });

  it('keeps concurrent jobs in the traces that produced them', async () => {
    let recorder: SpanRecorder;
    let producer: Producer;
    let tracing: TraceService;
    ({ app, recorder, producer, tracing } = await boot());
    const traces = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        inRequest(tracing, async (span) => {
          await producer.queue.add('concurrent', { n });
          return { n, traceId: span.spanContext().traceId };
        }),
      ),
    );
    await waitFor(() => recorder.findAll(`process ${QUEUE}`).length === 10, 'ten consumer spans');
    const processor = app.get(JobsProcessor);
    for (const { n, traceId } of traces) {
      const seen = processor.seen.find((s) => (s.data as { n: number }).n === n);
      const span = recorder.findAll(`process ${QUEUE}`).find((s) => s.attributes['messaging.message.id'] === seen?.id);
      expect(span?.spanContext().traceId).toBe(traceId);
    }
  });

  it('interoperates with a producer and a worker that do not trace', async () => {
    let recorder: SpanRecorder;
    let producer: Producer;
    let tracing: TraceService;
    // an untraced producer: the processor starts a trace of its own
    ({ app, recorder } = await boot());
    const untraced = new Queue(QUEUE, { connection });
    await untraced.add('plain', { from: 'elsewhere' });
    await untraced.close();
    const process = await waitFor(() => recorder.findAll(`process ${QUEUE}`)[0], 'the consumer span');
    expect(process.parentSpanContext).toBeUndefined();
    await app.close();

    // an untraced worker: gets the data as sent, and the context in the job's options
    ({ app, recorder, producer, tracing } = await boot({}, false));
    const received: Job[] = [];
    const worker = new Worker(PLAIN, async (job) => void received.push(job), { connection });
    try {
      await inRequest(tracing, () => producer.plain.add('plain', { exact: true }));
      await waitFor(() => received.length === 1, 'the untraced worker');
      expect(received[0]?.data).toEqual({ exact: true });
      const send = recorder.find(`send ${PLAIN}`);
      const metadata = (received[0]?.opts.telemetry as { metadata?: { traceparent?: string } }).metadata;
      expect(metadata?.traceparent).toBe(`00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`);
    } finally {
      await worker.close();
    }
  });

  it('keeps process intact, and adds nothing with autoTrace.queues: false', async () => {
    let recorder: SpanRecorder;
    let producer: Producer;
    let tracing: TraceService;
    ({ app, recorder, producer, tracing } = await boot({ autoTrace: { queues: false } }));
    expect(JobsProcessor.prototype.process.name).toBe('process');
    await inRequest(tracing, () => producer.queue.add('off', { off: true }));
    const processor = app.get(JobsProcessor);
    await waitFor(() => processor.seen.length === 1, 'the job');
    expect(recorder.spans().map((s) => s.name)).toEqual(['request']);
  });
});
