import { TracingGlobals } from '../../runtime/tracing-globals.js';
import type { Instrumentation } from '../instrumentation.js';
import { subscribeFetch } from './fetch-tracing.js';
import { wrapNodeHttp } from './node-http-tracing.js';

/**
 * CLIENT spans and context propagation for outgoing HTTP: global fetch through undici's
 * diagnostics channels, and node:http/node:https requests (axios, so @nestjs/axios
 * HttpService, got, superagent, SDKs) through their request functions. One hook of each
 * per process, however many apps; each request reports to the app whose context made it.
 */
export const httpClientInstrumentation: Instrumentation = {
  name: 'outgoing HTTP',
  isEnabled: (options) => options.traceOutgoingHttp,
  enable() {
    const releaseFetch = TracingGlobals.share('undici diagnostics channels', subscribeFetch);
    let releaseNodeHttp: () => void;
    try {
      releaseNodeHttp = TracingGlobals.share('node:http and node:https request functions', wrapNodeHttp);
    } catch (error) {
      releaseFetch();
      throw error;
    }
    // each is given back even if the other fails to be
    return () => {
      try {
        releaseNodeHttp();
      } finally {
        releaseFetch();
      }
    };
  },
};
