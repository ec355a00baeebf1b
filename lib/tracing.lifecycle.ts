import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { instrumentFastifyRoutes, instrumentHttpServer } from './http/http-server-instrumentation.js';
import { instrumentAxios, isHttpService } from './http/outgoing/axios-tracing.js';
import { acquireOutgoingHttpTracing } from './http/outgoing/outgoing-http.js';
import { instrumentMicroservices } from './microservices/instrument.js';
import { removeRunning } from './runtime/active-runtime.js';
import { TracingRuntime } from './runtime/tracing-runtime.js';

/** Connects the runtime to the app: server spans once the HTTP server exists, flush on close. */
@Injectable()
export class TracingLifecycle implements OnModuleInit, OnApplicationShutdown {
  private releaseOutgoing?: () => void;

  constructor(
    private readonly runtime: TracingRuntime,
    private readonly adapterHost: HttpAdapterHost,
    private readonly discovery: DiscoveryService,
  ) {}

  onModuleInit(): void {
    const { options } = this.runtime;
    if (!options.enabled) return;
    if (options.traceOutgoingHttp) {
      this.releaseOutgoing = acquireOutgoingHttpTracing();
      for (const { instance } of this.discovery.getProviders())
        if (isHttpService(instance)) instrumentAxios(instance.axiosRef);
    }
    instrumentMicroservices(this.discovery, this.runtime);
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return;
    const server = adapter.getHttpServer() as Server | undefined;
    if (server) instrumentHttpServer(server, this.runtime);
    if (adapter.getType() === 'fastify') instrumentFastifyRoutes(adapter.getInstance());
  }

  async onApplicationShutdown(): Promise<void> {
    this.releaseOutgoing?.();
    this.releaseOutgoing = undefined;
    removeRunning(this.runtime);
    await this.runtime.shutdown();
  }
}
