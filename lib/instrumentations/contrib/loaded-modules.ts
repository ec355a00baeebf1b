import { readFileSync } from 'node:fs';
import { createRequire, isBuiltin, syncBuiltinESMExports } from 'node:module';
import { normalize, sep } from 'node:path';
import type { Instrumentation } from '../../options/tracing-options.interface.js';
import { satisfies } from './version-range.js';

const NODE_MODULES = `${sep}node_modules${sep}`;

/** A package (or one of its files) an OpenTelemetry instrumentation patches; what `InstrumentationNodeModuleDefinition` holds. */
interface InstrumentedModuleDefinition {
  name: string;
  supportedVersions: string[];
  includePrerelease?: boolean;
  moduleExports?: unknown;
  moduleVersion?: string;
  files: InstrumentedModuleFile[];
  patch?(moduleExports: unknown, moduleVersion?: string): unknown;
  unpatch?(moduleExports?: unknown, moduleVersion?: string): void;
}

/** One file of a package an instrumentation patches (`InstrumentationNodeModuleFile`). */
interface InstrumentedModuleFile {
  name: string;
  supportedVersions: string[];
  moduleExports?: unknown;
  patch(moduleExports: unknown, moduleVersion?: string): unknown;
  unpatch(moduleExports?: unknown, moduleVersion?: string): void;
}

interface CachedModule {
  exports: unknown;
}

/**
 * Applies an instrumentation's own patches to the packages the app has already loaded, the
 * way require-in-the-middle would have applied them had it been hooked before they were
 * required: `patch(exports, version)` for a package's main module, `file.patch(...)` for its
 * internal files, each only for a version the instrumentation supports. The exports are
 * recorded on the instrumentation's definitions (`_modules`), as its hook does, so `disable()`
 * removes exactly these patches.
 * Works on CommonJS modules (in Jest too: its `createRequire` sees its own registry); an
 * ES module's bindings cannot be patched after it is loaded.
 */
export function patchLoadedModules(
  instrumentation: Instrumentation,
  fail: (where: string, error: unknown) => void,
): void {
  // InstrumentationBase's own definitions, the ones disable() unpatches (getModuleDefinitions() builds new ones)
  const definitions = (instrumentation as { _modules?: InstrumentedModuleDefinition[] })._modules ?? [];
  if (definitions.length === 0) return;
  const require = createRequire(import.meta.url);
  const byPackage = new Map<string, InstrumentedModuleDefinition>();
  for (const definition of definitions) {
    if (isBuiltin(definition.name)) patchBuiltin(definition, require, fail);
    else byPackage.set(definition.name, definition);
  }
  if (byPackage.size === 0) return;
  const packages = new Map<string, { main: string | undefined; version: string | undefined }>();
  const cache = require.cache as Record<string, CachedModule | undefined>;
  for (const filename of Object.keys(cache)) {
    const at = filename.lastIndexOf(NODE_MODULES);
    if (at < 0) continue;
    const inner = filename.slice(at + NODE_MODULES.length);
    const segments = inner.split(sep);
    const name = segments[0]?.startsWith('@') ? `${segments[0]}/${segments[1]}` : segments[0]!;
    const definition = byPackage.get(name);
    const entry = cache[filename];
    if (!definition || !entry) continue;
    const baseDir = filename.slice(0, at + NODE_MODULES.length) + name.split('/').join(sep);
    let found = packages.get(baseDir);
    if (!found) packages.set(baseDir, (found = { main: mainOf(baseDir, require), version: versionOf(baseDir) }));
    try {
      applyTo(definition, entry, filename === found.main ? undefined : inner, found.version);
    } catch (error) {
      fail(`applying ${instrumentation.instrumentationName} to ${inner}`, error);
    }
  }
}

/** What require-in-the-middle's hook does for one module it sees loaded (InstrumentationBase._onRequire). */
function applyTo(
  definition: InstrumentedModuleDefinition,
  entry: CachedModule,
  file: string | undefined,
  version: string | undefined,
): void {
  if (file === undefined) {
    if (typeof definition.patch !== 'function' || definition.moduleExports === entry.exports) return;
    if (!satisfies(version ?? '', definition.supportedVersions, definition.includePrerelease)) return;
    definition.moduleExports = entry.exports;
    definition.moduleVersion = version;
    entry.exports = definition.patch(entry.exports, version) ?? entry.exports;
    return;
  }
  for (const target of definition.files ?? []) {
    if (normalize(target.name) !== file || target.moduleExports === entry.exports) continue;
    if (!satisfies(version ?? '', target.supportedVersions, definition.includePrerelease)) continue;
    definition.moduleVersion ??= version;
    target.moduleExports = entry.exports;
    entry.exports = target.patch(entry.exports, version) ?? entry.exports;
  }
}

/** Built-ins are always loaded: patch the one shared object, then refresh the named ESM exports. */
function patchBuiltin(
  definition: InstrumentedModuleDefinition,
  require: NodeJS.Require,
  fail: (where: string, error: unknown) => void,
): void {
  if (typeof definition.patch !== 'function' || definition.moduleExports !== undefined) return;
  try {
    const exports: unknown = require(definition.name);
    definition.moduleExports = exports;
    definition.patch(exports);
    syncBuiltinESMExports();
  } catch (error) {
    fail(`applying an instrumentation to ${definition.name}`, error);
  }
}

function mainOf(baseDir: string, require: NodeJS.Require): string | undefined {
  try {
    return require.resolve(baseDir);
  } catch {
    return undefined;
  }
}

function versionOf(baseDir: string): string | undefined {
  try {
    const { version } = JSON.parse(readFileSync(`${baseDir}${sep}package.json`, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}
