/**
 * `node --import ./otel-preload.js target.js`: what the OpenTelemetry docs prescribe for
 * an ESM app (Nest 12 is ESM). The import-in-the-middle loader hook must be registered
 * before the app's modules load, and the SDK must be started before they are imported.
 */
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
await import('./otel-sdk.js');
