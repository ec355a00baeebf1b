import { AutoSpans } from '../auto-trace/auto-spans.js';
import { ownedBy } from '../auto-trace/nest-explorer.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';
import { isBullQueue, isProcessor } from './bullmq-metadata.accessor.js';
import { processJob } from './consumer.js';
import { traceQueue } from './producer.js';

/**
 * `autoTrace.queues` (@nestjs/bullmq): PRODUCER spans for the app's Queue providers
 * (`@InjectQueue()`, BullModule.registerQueue), and a CONSUMER span per attempt of a
 * `@Processor()`'s `process`. The processor is patched at instantiation (BullExplorer binds
 * `instance.process` in onModuleInit); the queues, which Nest creates with a factory, once
 * they exist. Nothing of bullmq is loaded: without it, no class matches.
 */
export const queuesInstrumentation: Instrumentation = {
  name: 'queues',
  isEnabled: (options) => options.autoTrace.queues,
  prepare({ runtime, options, classes, modules }) {
    const spans = new AutoSpans(runtime, 'queue processors');
    for (const target of classes.providers) {
      if (!isProcessor(target) || !isAutoTraceableClass(options.autoTrace, target)) continue;
      if (autoTraceableMethods(target, ['process']).length === 0) continue;
      spans.trace(target, 'process', 'processor', undefined, processJob, ownedBy(modules, target));
    }
    return spans.undo;
  },
  enable({ runtime, discovery }) {
    const undo: Array<() => void> = [];
    const seen = new Set<unknown>();
    for (const wrapper of discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (seen.has(instance) || !isBullQueue(instance)) continue;
      seen.add(instance);
      try {
        undo.push(traceQueue(instance, runtime));
      } catch (error) {
        runtime.report('tracing a queue', error);
      }
    }
    return () => {
      for (const restore of undo.splice(0).reverse()) restore();
    };
  },
};
