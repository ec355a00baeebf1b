import { controllersInstrumentation } from './controllers/controllers.instrumentation.js';
import { enhancersInstrumentation } from './enhancers/enhancers.instrumentation.js';
import { contribInstrumentation } from './contrib/contrib.instrumentation.js';
import { httpClientInstrumentation } from './http-client/http-client.instrumentation.js';
import { httpServerInstrumentation } from './http-server/http-server.instrumentation.js';
import type { Instrumentation } from './instrumentation.js';
import { middlewareInstrumentation } from './middleware/middleware.instrumentation.js';
import { providersInstrumentation } from './providers/providers.instrumentation.js';
import { eventsInstrumentation } from './events/events.instrumentation.js';
import { scheduleInstrumentation } from './schedule/schedule.instrumentation.js';
import { gatewaysInstrumentation } from './websockets/websockets.instrumentation.js';
import { queuesInstrumentation } from './queues/queues.instrumentation.js';
import { resolversInstrumentation } from './graphql/resolvers.instrumentation.js';
import { microservicesInstrumentation } from './microservices/microservices.instrumentation.js';

/** Every instrumentation the module knows, in the order they are enabled. */
export const INSTRUMENTATIONS: readonly Instrumentation[] = [
  httpServerInstrumentation,
  httpClientInstrumentation,
  microservicesInstrumentation,
  controllersInstrumentation,
  enhancersInstrumentation,
  middlewareInstrumentation,
  contribInstrumentation,
  eventsInstrumentation,
  scheduleInstrumentation,
  gatewaysInstrumentation,
  queuesInstrumentation,
  resolversInstrumentation,
  // last: a method an entry point claims (a gateway's handler, a job, a listener) keeps that span, not a provider span
  providersInstrumentation,
];
