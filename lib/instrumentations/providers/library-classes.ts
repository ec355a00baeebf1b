import type { Type } from '@nestjs/common';
import { createRequire } from 'node:module';

type Inspector = typeof import('node:inspector');
interface RemoteObject {
  objectId?: string;
}
interface PropertyDescriptor {
  name: string;
  value?: RemoteObject & { value?: { scriptId?: string } };
}

const PROBE = Symbol.for('nestjs-tracing:class-origin-probe');

/**
 * Which of `classes` are defined in a file under node_modules (Nest's own providers,
 * ConfigService, @nestjs/graphql's ResolverDecoratorHost, ...). A function does not say where
 * it was defined, except to V8: an in-process inspector session reads each class's
 * `[[FunctionLocation]]` and the URL of its script. The URLs come from enabling the debugger
 * for a moment (it announces every script, then is turned off; no breakpoint is set): V8's
 * coverage lists only scripts that have run more than their top level, which leaves out
 * the file of a class Nest has not instantiated yet. Run once per app at startup, only for
 * `providers: true`. Undefined when Node has no inspector (then nothing can be told).
 */
export function definedInNodeModules(classes: readonly Type[]): Set<Type> | undefined {
  const inspector = loadInspector();
  if (!inspector || classes.length === 0) return inspector ? new Set() : undefined;
  const session = new inspector.Session();
  session.connect();
  // handed over on the inspector module, the one object this realm and the session's (under a
  // test runner's vm context they differ) both reach
  const handover = inspector as unknown as { [PROBE]?: readonly Type[] };
  try {
    const scripts = new Map<string, string>();
    session.on('Debugger.scriptParsed', ({ params }: { params: { scriptId: string; url: string } }) =>
      scripts.set(params.scriptId, params.url),
    );
    post(session, 'Debugger.enable', {}, () => undefined);
    post(session, 'Debugger.disable', {}, () => undefined);
    handover[PROBE] = classes;
    let list: string | undefined;
    post<{ result: RemoteObject }>(
      session,
      'Runtime.evaluate',
      {
        expression: `require('node:inspector')[Symbol.for('nestjs-tracing:class-origin-probe')]`,
        includeCommandLineAPI: true,
        objectGroup: 'nestjs-tracing',
      },
      (r) => (list = r.result.objectId),
    );
    const found = new Set<Type>();
    if (list === undefined) return undefined;
    for (const element of properties(session, list, false)) {
      const index = Number(element.name);
      const target = classes[index];
      if (!Number.isInteger(index) || !target || !element.value?.objectId) continue;
      const location = properties(session, element.value.objectId, true).find((p) => p.name === '[[FunctionLocation]]');
      const url = scripts.get(location?.value?.value?.scriptId ?? '') ?? '';
      if (/[\\/]node_modules[\\/]/.test(url)) found.add(target);
    }
    return found;
  } catch {
    return undefined;
  } finally {
    delete handover[PROBE];
    session.disconnect();
  }
}

function properties(session: InstanceType<Inspector['Session']>, objectId: string, internal: boolean) {
  let found: PropertyDescriptor[] = [];
  post<{ result: PropertyDescriptor[]; internalProperties?: PropertyDescriptor[] }>(
    session,
    'Runtime.getProperties',
    { objectId, ownProperties: true },
    (r) => (found = internal ? (r.internalProperties ?? []) : r.result),
  );
  return found;
}

/** An in-process session answers synchronously: the callback has run when post() returns. */
function post<T>(session: InstanceType<Inspector['Session']>, method: string, params: object, take: (r: T) => void) {
  let failure: { error: Error } | undefined;
  session.post(method, params, (error, result) => {
    if (error) failure = { error };
    else take(result as T);
  });
  if (failure) throw failure.error;
}

function loadInspector(): Inspector | undefined {
  try {
    return createRequire(import.meta.url)('node:inspector') as Inspector;
  } catch {
    return undefined; // a Node built without the inspector
  }
}
