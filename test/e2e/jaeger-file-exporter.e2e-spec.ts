import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { JaegerFileExporter, type JaegerTrace } from 'nestjs-tracing';

function service(name: string) {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': name }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  return { memory, tracer: provider.getTracer('e2e') };
}

function exportSpans(exporter: JaegerFileExporter, spans: ReadableSpan[], onDone?: () => void): Promise<ExportResult> {
  return new Promise((resolve, reject) =>
    exporter.export(spans, (result) => {
      try {
        onDone?.();
        resolve(result);
      } catch (error) {
        reject(error);
      }
    }),
  );
}

function readDocument(path: string): { data: JaegerTrace[] } {
  return JSON.parse(readFileSync(path, 'utf8')) as { data: JaegerTrace[] };
}

describe('JaegerFileExporter', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaeger-file-'));
    path = join(dir, 'nested', 'traces.json');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('merges concurrent batches from two services into one entry per trace', async () => {
    const gateway = service('gateway');
    const orders = service('orders');
    // Two requests, each crossing from gateway to orders.
    for (const request of ['a', 'b']) {
      const root = gateway.tracer.startSpan(`GET /${request}`);
      const client = gateway.tracer.startSpan('call orders', {}, trace.setSpan(context.active(), root));
      const server = orders.tracer.startSpan('handle', {}, trace.setSpan(context.active(), client));
      const query = orders.tracer.startSpan('SELECT', {}, trace.setSpan(context.active(), server));
      [query, server, client, root].forEach((span) => span.end());
    }
    const gatewayExporter = new JaegerFileExporter({ path });
    const ordersExporter = new JaegerFileExporter({ path });

    const validAfterEachExport = () => expect(readDocument(path).data.length).toBeGreaterThan(0);
    const results = await Promise.all([
      ...gateway.memory.getFinishedSpans().map((span) => exportSpans(gatewayExporter, [span], validAfterEachExport)),
      ...chunk(orders.memory.getFinishedSpans(), 3).map((spans) =>
        exportSpans(ordersExporter, spans, validAfterEachExport),
      ),
    ]);
    await Promise.all([gatewayExporter.shutdown(), ordersExporter.shutdown()]);

    expect(results.every((result) => result.code === ExportResultCode.SUCCESS)).toBe(true);
    const { data } = readDocument(path);
    expect(data).toHaveLength(2);
    for (const entry of data) {
      expect(entry.spans).toHaveLength(4);
      const services = Object.values(entry.processes).map((process) => process.serviceName);
      expect(services.sort()).toEqual(['gateway', 'orders']);
      const byId = new Map(entry.spans.map((span) => [span.spanID, span]));
      const parentName = (name: string) => {
        const span = entry.spans.find((s) => s.operationName === name);
        const ref = span?.references[0];
        expect(ref?.refType).toBe('CHILD_OF');
        return byId.get(ref?.spanID ?? '')?.operationName;
      };
      expect(parentName('SELECT')).toBe('handle');
      expect(parentName('handle')).toBe('call orders');
      expect(parentName('call orders')).toMatch(/^GET \//);
      const serviceOf = (name: string) =>
        entry.processes[entry.spans.find((s) => s.operationName === name)?.processID ?? '']?.serviceName;
      expect([serviceOf('call orders'), serviceOf('handle')]).toEqual(['gateway', 'orders']);
    }
    expect(await readdir(join(dir, 'nested'))).toEqual(['traces.json']);
  });

  it('moves a corrupt file aside and starts a fresh one', async () => {
    await writeFile(join(dir, 'traces.json'), '{ "data": [ half written');
    const { memory, tracer } = service('gateway');
    tracer.startSpan('job').end();

    const exporter = new JaegerFileExporter({ path: join(dir, 'traces.json') });
    const result = await exportSpans(exporter, memory.getFinishedSpans());

    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(readDocument(join(dir, 'traces.json')).data[0]?.spans[0]?.operationName).toBe('job');
    const aside = (await readdir(dir)).filter((name) => name.startsWith('traces.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(dir, aside[0]!), 'utf8')).toBe('{ "data": [ half written');
  });

  it('reports a path it cannot write through the callback', async () => {
    await writeFile(join(dir, 'not-a-dir'), '');
    const { memory, tracer } = service('gateway');
    tracer.startSpan('job').end();

    const result = await exportSpans(
      new JaegerFileExporter({ path: join(dir, 'not-a-dir', 'traces.json') }),
      memory.getFinishedSpans(),
    );

    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error).toBeInstanceOf(Error);
  });

  describe('lock shared with other processes', () => {
    it('waits while another writer holds the lock', async () => {
      const file = join(dir, 'traces.json');
      await writeFile(`${file}.lock`, '99999');
      const { memory, tracer } = service('gateway');
      tracer.startSpan('job').end();

      let done = false;
      const exporter = new JaegerFileExporter({ path: file });
      const result = exportSpans(exporter, memory.getFinishedSpans(), () => (done = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(done).toBe(false);
      expect(await readdir(dir)).toEqual(['traces.json.lock']);

      await rm(`${file}.lock`);
      expect((await result).code).toBe(ExportResultCode.SUCCESS);
      expect(await readdir(dir)).toEqual(['traces.json']);
    });

    it('breaks a lock left behind by a writer that died', async () => {
      const file = join(dir, 'traces.json');
      await writeFile(`${file}.lock`, '99999');
      const longAgo = new Date(Date.now() - 60_000);
      await utimes(`${file}.lock`, longAgo, longAgo);
      const { memory, tracer } = service('gateway');
      tracer.startSpan('job').end();

      const started = Date.now();
      const result = await exportSpans(new JaegerFileExporter({ path: file }), memory.getFinishedSpans());

      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await readdir(dir)).toEqual(['traces.json']);
    });
  });
});

function chunk<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));
}
