/**
 * The microservices test kit, in one import: the shared transport suite, the fixtures the
 * transport-specific tests reuse, and the span helpers they wait and select with.
 */
export { Audit } from './microservices/gateway.js';
export { defineTransportTests, type TransportCase } from './microservices/transport-suite.js';
export { carrierOf, OrdersLedger } from './microservices/worker.js';
export { RUN } from './microservices/patterns.js';
export { countOf, hrMs, inTrace, named, only } from './memory-tracing.js';
export { freshSpans, waitForSpans } from './wait-for-spans.js';
