import 'reflect-metadata';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Cron, Interval, ScheduleModule, Timeout } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { SpanStatusCode } from '@opentelemetry/api';
import { Trace, type TracingModuleOptions } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { waitFor } from '../../support/wait-for.js';

@Injectable()
class Pricing {
  @Trace()
  refresh(): number {
    return 42;
  }
}

/** Overlap: the first run waits on a gate while later runs start. */
@Injectable()
class Jobs {
  runs = 0;
  failures = 0;
  release: (() => void) | undefined;
  cronRuns = 0;

  constructor(private readonly pricing: Pricing) {}

  @Interval('refresh', 20)
  async refresh(): Promise<number> {
    this.runs++;
    if (this.runs === 1) await new Promise<void>((resolve) => (this.release = resolve));
    if (this.runs === 2) {
      this.failures++;
      throw new Error('run failed');
    }
    return this.pricing.refresh();
  }

  @Timeout(5)
  once(): string {
    return 'once';
  }

  @Cron('* * * * * *', { name: 'every-second', timeZone: 'UTC' })
  everySecond(): void {
    this.cronRuns++;
  }
}

async function boot(options: TracingModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [TracingTestingModule.forRoot({ serviceName: 'jobs', ...options }), ScheduleModule.forRoot()],
    providers: [Jobs, Pricing],
  }).compile();
  moduleRef.useLogger(false); // the scheduler logs the provoked failure
  await moduleRef.init();
  const app: INestApplicationContext = moduleRef;
  return { app, recorder: app.get(SpanRecorder), jobs: app.get(Jobs) };
}

describe('scheduled job spans', () => {
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('makes every run a root span of its own trace, overlapping runs included, errors recorded and the schedule kept', async () => {
    let recorder: SpanRecorder;
    let jobs: Jobs;
    ({ app, recorder, jobs } = await boot());
    await waitFor(() => jobs.runs >= 4, 'four interval runs while the first is still running');
    jobs.release?.();
    const runs = await waitFor(() => {
      const found = recorder.findAll('Jobs.refresh');
      return (
        found.length >= 4 && found.some((s) => s.events.length === 0 && recorder.childrenOf(s).length > 0) && found
      );
    }, 'the interval run spans');
    for (const span of runs) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.attributes).toMatchObject({
        'code.function.name': 'Jobs.refresh',
        'nestjs.type': 'scheduled',
        'nestjs.schedule.type': 'interval',
        'nestjs.schedule.name': 'refresh',
        'nestjs.schedule.delay_ms': 20,
      });
    }
    expect(new Set(runs.map((s) => s.spanContext().traceId)).size).toBe(runs.length);
    const failed = runs.filter((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failed).toHaveLength(jobs.failures);
    expect(failed[0]?.events.map((e) => e.name)).toEqual(['exception']);
    const child = recorder.find('Pricing.refresh');
    expect(runs.map((s) => s.spanContext().spanId)).toContain(child.parentSpanContext?.spanId);
    expect(jobs.runs).toBeGreaterThan(2); // the failing run did not stop the interval

    const once = await waitFor(() => recorder.findAll('Jobs.once')[0], 'the timeout run');
    expect(once.attributes).toMatchObject({ 'nestjs.schedule.type': 'timeout', 'nestjs.schedule.delay_ms': 5 });
  });

  it('traces cron runs with their expression', async () => {
    let recorder: SpanRecorder;
    ({ app, recorder } = await boot());
    const span = await waitFor(() => recorder.findAll('Jobs.everySecond')[0], 'a cron run', 3000);
    expect(span.attributes).toMatchObject({
      'nestjs.schedule.type': 'cron',
      'nestjs.schedule.name': 'every-second',
      'nestjs.schedule.cron': '* * * * * *',
      'nestjs.schedule.time_zone': 'UTC',
    });
  });

  it('gives each app the runs of its own instance, and keeps method and metadata', async () => {
    const original = Jobs.prototype.refresh;
    const first = await boot({ serviceName: 'first' });
    const second = await boot({ serviceName: 'second' });
    app = first.app;
    try {
      expect(Jobs.prototype.refresh).not.toBe(original);
      expect(Jobs.prototype.refresh.name).toBe('refresh');
      expect(Reflect.getMetadata('SCHEDULER_NAME', Jobs.prototype.refresh)).toBe('refresh');
      await waitFor(() => first.recorder.findAll('Jobs.once').length === 1, 'the first app run');
      await waitFor(() => second.recorder.findAll('Jobs.once').length === 1, 'the second app run');
    } finally {
      first.jobs.release?.();
      second.jobs.release?.();
      await second.app.close();
    }
  });

  it('adds nothing with autoTrace.schedule: false', async () => {
    let recorder: SpanRecorder;
    let jobs: Jobs;
    ({ app, recorder, jobs } = await boot({ autoTrace: { schedule: false } }));
    await waitFor(() => jobs.runs >= 1, 'a run');
    jobs.release?.();
    await waitFor(() => jobs.runs >= 3, 'more runs');
    expect(recorder.spans().filter((s) => s.name.startsWith('Jobs.'))).toEqual([]);
  });
});
