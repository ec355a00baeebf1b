import type { Type } from '@nestjs/common';
import type { ApplicationConfig } from '@nestjs/core/application-config.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { classOf, type EnhancerRole } from '../auto-trace/nest-metadata.accessor.js';

/** The ApplicationConfig methods that register a global enhancer, and the role each registers. */
const REGISTRARS: Record<EnhancerRole, { instances: string[]; request: string; list: string; requestList: string }> = {
  guard: {
    instances: ['useGlobalGuards', 'addGlobalGuard'],
    request: 'addGlobalRequestGuard',
    list: 'getGlobalGuards',
    requestList: 'getGlobalRequestGuards',
  },
  pipe: {
    instances: ['useGlobalPipes', 'addGlobalPipe'],
    request: 'addGlobalRequestPipe',
    list: 'getGlobalPipes',
    requestList: 'getGlobalRequestPipes',
  },
  interceptor: {
    instances: ['useGlobalInterceptors', 'addGlobalInterceptor'],
    request: 'addGlobalRequestInterceptor',
    list: 'getGlobalInterceptors',
    requestList: 'getGlobalRequestInterceptors',
  },
  filter: {
    instances: ['useGlobalFilters', 'addGlobalFilter'],
    request: 'addGlobalRequestFilter',
    list: 'getGlobalFilters',
    requestList: 'getGlobalRequestFilters',
  },
};

type Config = Record<string, unknown>;
type Registrar = (...items: unknown[]) => unknown;

/**
 * Global enhancers reach the app's ApplicationConfig after instantiation: `APP_GUARD` &
 * co. right after it, `app.useGlobalPipes(new ValidationPipe())` at bootstrap, both before
 * Nest reads them to build routes and message handlers. This app's config object (not a
 * shared prototype) is watched, so each one's class is traced as it arrives; the ones
 * already there are traced now. Returns the undo.
 */
export function watchGlobalEnhancers(
  applicationConfig: ApplicationConfig,
  trace: (target: Type, role: EnhancerRole) => void,
  runtime: TracingRuntime,
): () => void {
  const config = applicationConfig as unknown as Config;
  const seen = (role: EnhancerRole, item: unknown, isWrapper: boolean): void => {
    try {
      const target = classOf(isWrapper ? (item as { metatype?: unknown } | null)?.metatype : item);
      if (target) trace(target, role);
    } catch (error) {
      runtime.report('tracing a global enhancer', error);
    }
  };
  const patched: string[] = [];
  for (const [role, names] of Object.entries(REGISTRARS) as Array<[EnhancerRole, (typeof REGISTRARS)['guard']]>) {
    for (const item of list(config, names.list)) seen(role, item, false);
    for (const item of list(config, names.requestList)) seen(role, item, true);
    for (const name of [...names.instances, names.request]) {
      const register = config[name];
      if (typeof register !== 'function') continue;
      const isWrapper = name === names.request;
      Object.defineProperty(config, name, {
        configurable: true,
        writable: true,
        value: function watched(this: unknown, ...items: unknown[]): unknown {
          for (const item of items) seen(role, item, isWrapper);
          return (register as Registrar).apply(this, items);
        },
      });
      patched.push(name);
    }
  }
  return () => {
    for (const name of patched) delete config[name];
  };
}

function list(config: Config, name: string): unknown[] {
  const get = config[name];
  const items = typeof get === 'function' ? (get as () => unknown).call(config) : undefined;
  return Array.isArray(items) ? items : [];
}
