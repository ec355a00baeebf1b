import type { Instrumentation as OpenTelemetryInstrumentation } from '../../options/tracing-options.interface.js';
import { instrumentationsIgnored } from '../../options/messages.js';
import { TracingGlobals } from '../../runtime/tracing-globals.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import type { Instrumentation } from '../instrumentation.js';
import { AppRoutingTracerProvider } from './app-routing-tracer.js';
import { patchLoadedModules } from './loaded-modules.js';

/**
 * The `instrumentations` option: OpenTelemetry instrumentations, enabled on the apps' tracer
 * providers and applied to the packages already loaded. A package is patched once per process:
 * the first app to enable an instrumentation (by name) owns the patch, later apps share it, and
 * the last one to close disables it; spans go to the app whose request made them.
 */
export const contribInstrumentation: Instrumentation = {
  name: 'OpenTelemetry instrumentations',
  isEnabled: (options) => options.instrumentations.length > 0,
  enable({ runtime, options }) {
    if (TracingGlobals.hasForeignProvider()) {
      runtime.logger.log(instrumentationsIgnored(options.instrumentations.map((i) => i.instrumentationName)));
      return;
    }
    const releases = options.instrumentations.map((instrumentation) => enableShared(instrumentation, runtime));
    return () => {
      for (const release of releases.reverse()) release?.();
    };
  },
};

function enableShared(
  instrumentation: OpenTelemetryInstrumentation,
  runtime: TracingRuntime,
): (() => void) | undefined {
  const report = (where: string, error: unknown) => runtime.report(where, error);
  try {
    const { value: owner, release } = TracingGlobals.shareValue(
      `OpenTelemetry instrumentation ${instrumentation.instrumentationName}`,
      () => {
        instrumentation.setTracerProvider(new AppRoutingTracerProvider());
        instrumentation.enable();
        return { value: instrumentation, remove: () => instrumentation.disable() };
      },
    );
    if (owner !== instrumentation) {
      // Enabled when constructed, it may have patched a package loaded since, over the owner's
      // patch: disabling it removes that, and the owner's disable/enable puts its own back.
      instrumentation.disable();
      owner.disable();
      owner.enable();
    }
    patchLoadedModules(owner, report);
    return () => {
      try {
        release();
      } catch (error) {
        report(`disabling ${instrumentation.instrumentationName}`, error);
      }
    };
  } catch (error) {
    report(`enabling ${instrumentation.instrumentationName}`, error);
    return undefined;
  }
}
