import type { INestApplication, INestMicroservice } from '@nestjs/common';
import {
  ClientProxyFactory,
  type ClientOptions,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { CapturedLogs } from '../captured-logs.js';
import { TracerFault } from '../tracer-fault.js';
import { freshSpans, waitForSpans } from '../wait-for-spans.js';
import { startGateway } from './gateway.js';
import { patternsFor, RUN, type Patterns } from './patterns.js';
import { edgeTests } from './transport-edges.js';
import { outcomeTests } from './transport-outcomes.js';
import { propagationTests } from './transport-propagation.js';
import { startWorker } from './worker.js';

export interface TransportCase {
  /** messaging.system */
  system: string;
  /** Options for a worker serving `prefix`'s patterns (queue, topics, address). */
  serverOptions(prefix: string): MicroserviceOptions;
  /** Options for a client of that worker once it listens. */
  clientOptions(worker: INestMicroservice, prefix: string): ClientOptions;
  /** messaging.destination.name of a message sent with `pattern` to `prefix`'s worker. */
  destination(pattern: string, prefix: string): string;
  /** Attributes every client span of this transport has (broker address). */
  clientAttributes?: Attributes;
  /** Whether the worker's RPC context shows the carrier (MQTT 3.1.1 keeps the envelope to itself). */
  carrierVisible: boolean;
  /** Where the context travels, as the README says: checked on an untraced worker. */
  carrierName: string;
}

/** What the scenarios of one transport share; the apps are there once `beforeAll` has run. */
export interface TransportRig {
  t: TransportCase;
  prefix: string;
  p: Patterns;
  plainPatterns: Patterns;
  /** Traced HTTP gateway sending to `worker` (ORDERS) and to an untraced worker (PLAIN). */
  gateway: INestApplication;
  worker: INestMicroservice;
  /** An untraced client of `worker`. */
  bareClient: ClientProxy;
  /** Every app's log (Nest's logger is one per process). */
  logs: CapturedLogs;
  /** Makes the gateway's and the worker's tracer fail while set. */
  fault: TracerFault;
  gatewaySpans(ready?: (spans: ReadableSpan[]) => boolean): Promise<ReadableSpan[]>;
  workerSpans(ready: (spans: ReadableSpan[]) => boolean): Promise<ReadableSpan[]>;
}

/**
 * The same scenarios for every pattern-based transport: a traced HTTP gateway sending to a
 * traced worker, an untraced worker and an untraced client on the side. Call inside a describe.
 */
export function defineTransportTests(t: TransportCase): void {
  const prefix = `${RUN}.traced`;
  const plainPrefix = `${RUN}.plain`;
  const rig = {
    t,
    prefix,
    p: patternsFor(prefix),
    plainPatterns: patternsFor(plainPrefix),
    logs: new CapturedLogs(),
    fault: new TracerFault(),
    gatewaySpans: (ready = () => true) => waitForSpans(rig.gateway, ready),
    workerSpans: (ready) => waitForSpans(rig.worker, ready),
  } as TransportRig;
  let plainWorker: INestMicroservice | undefined;

  beforeAll(async () => {
    const { logs, fault, p, plainPatterns } = rig;
    rig.worker = await startWorker(t.serverOptions(prefix), p, { spanProcessors: [fault], logger: logs });
    plainWorker = await startWorker(t.serverOptions(plainPrefix), plainPatterns, { traced: false, logger: logs });
    rig.gateway = await startGateway(
      t.clientOptions(rig.worker, prefix),
      t.clientOptions(plainWorker, plainPrefix),
      p,
      plainPatterns,
      { spanProcessors: [fault], logger: logs },
    );
    rig.bareClient = ClientProxyFactory.create(t.clientOptions(rig.worker, prefix));
  });
  afterAll(async () => {
    await rig.bareClient?.close();
    await rig.gateway?.close();
    await rig.worker?.close();
    await plainWorker?.close();
  });
  beforeEach(() => {
    freshSpans(rig.gateway);
    freshSpans(rig.worker);
  });

  propagationTests(rig);
  outcomeTests(rig);
  edgeTests(rig);
}
