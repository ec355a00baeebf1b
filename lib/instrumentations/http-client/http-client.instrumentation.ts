import { TracingGlobals } from '../../runtime/tracing-globals.js';
import type { Instrumentation } from '../instrumentation.js';
import { instrumentAxios, isHttpService } from './axios-tracing.js';
import { subscribeFetch } from './fetch-tracing.js';

/**
 * CLIENT spans and context propagation for outgoing HTTP: global fetch through undici's
 * diagnostics channels (one subscription per process, however many apps), and
 * @nestjs/axios HttpService instances found in the app.
 */
export const httpClientInstrumentation: Instrumentation = {
  name: 'outgoing HTTP',
  isEnabled: (options) => options.traceOutgoingHttp,
  enable({ discovery }) {
    const release = TracingGlobals.share('undici diagnostics channels', subscribeFetch);
    for (const { instance } of discovery.getProviders())
      if (isHttpService(instance)) instrumentAxios(instance.axiosRef);
    return release;
  },
};
