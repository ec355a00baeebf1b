import type { Type } from '@nestjs/common';
import type { ResolvedAutoTrace } from '../../options/auto-trace.js';
import { AutoSpans } from '../auto-trace/auto-spans.js';
import { ENHANCER_METHOD, type EnhancerRole } from '../auto-trace/nest-metadata.accessor.js';
import { autoTraceableMethods, isAutoTraceableClass } from '../auto-trace/traceable.js';
import type { Instrumentation } from '../instrumentation.js';
import { watchGlobalEnhancers } from './global-enhancers.js';

/**
 * `autoTrace.enhancers`: a span per call of a guard's `canActivate`, a pipe's `transform`,
 * an interceptor's `intercept` (until the Observable it returns completes, errors or is
 * unsubscribed, so the handler and the pipes Nest runs inside it nest beneath it) and an
 * exception filter's `catch`. Whether given as classes (`@UseGuards(KeyGuard)`), as
 * instances (`@UsePipes(new ValidationPipe())`), as `APP_*` providers or to
 * `app.useGlobal*()`; Nest's own pipes included. Filters are bound (`catch.bind`) when
 * routes are registered, hence the patch at instantiation like every automatic span.
 */
export const enhancersInstrumentation: Instrumentation = {
  name: 'enhancers',
  isEnabled: (options) => options.autoTrace.enhancers,
  prepare({ runtime, options, classes, config }) {
    const spans = new AutoSpans(runtime, 'enhancers');
    const trace = (target: Type, role: EnhancerRole) => traceEnhancer(spans, options.autoTrace, target, role);
    for (const [target, roles] of classes.enhancers) for (const role of roles) trace(target, role);
    const unwatch = watchGlobalEnhancers(config, trace, runtime);
    return () => {
      unwatch();
      spans.undo();
    };
  },
};

function traceEnhancer(spans: AutoSpans, autoTrace: ResolvedAutoTrace, target: Type, role: EnhancerRole): void {
  if (!isAutoTraceableClass(autoTrace, target)) return;
  const [method] = autoTraceableMethods(target, [ENHANCER_METHOD[role]]);
  if (method) spans.trace(target, method, role);
}
