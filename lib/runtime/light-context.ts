import type { Context } from '@opentelemetry/api';

/**
 * An OpenTelemetry Context held in two short arrays. The API's own context copies a Map
 * on every setValue; a request's context gets a handful of entries (its span, its app,
 * the request, one per nested span), for which copying a few array slots and scanning
 * them is cheaper. It behaves as the API's: immutable, any key, setValue and deleteValue
 * return a new context. HTTP server spans start their request's context from LIGHT_ROOT,
 * so everything the request's spans derive from it is light too.
 */
class LightContext implements Context {
  constructor(
    private readonly keys: symbol[],
    private readonly values: unknown[],
  ) {}

  getValue(key: symbol): unknown {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.values[i];
    return undefined;
  }

  setValue(key: symbol, value: unknown): Context {
    const at = this.keys.indexOf(key);
    const values = this.values.slice();
    if (at !== -1) {
      values[at] = value;
      return new LightContext(this.keys, values);
    }
    values.push(value);
    return new LightContext([...this.keys, key], values);
  }

  deleteValue(key: symbol): Context {
    const at = this.keys.indexOf(key);
    if (at === -1) return this;
    return new LightContext(
      this.keys.filter((_, i) => i !== at),
      this.values.filter((_, i) => i !== at),
    );
  }
}

/** An empty context, as ROOT_CONTEXT is. */
export const LIGHT_ROOT: Context = new LightContext([], []);
