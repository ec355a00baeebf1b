/**
 * Loads an optional peer (`@nestjs/websockets`, ...) the app may not have installed:
 * undefined when it is absent, so the instrumentation that needs it does nothing and the
 * app runs as it would without this library. Only the package's own absence is taken as
 * "not installed"; any other failure is thrown, for the caller to report.
 */
export async function loadOptional<T>(specifier: string): Promise<T | undefined> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}
