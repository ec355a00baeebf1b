import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../lib/cli/main.js';
import type { JaegerTrace } from 'nestjs-tracing';
import { renderWaterfall } from '../../lib/render/waterfall.js';

function traceWith(traceID: string, operationName: string): JaegerTrace {
  return {
    traceID,
    processes: { p1: { serviceName: 'gateway', tags: [] } },
    warnings: null,
    spans: [
      {
        traceID,
        spanID: `${traceID}-1`,
        operationName,
        references: [],
        flags: 1,
        startTime: 1_767_225_600_000_000,
        duration: 12_300,
        tags: [],
        logs: [],
        processID: 'p1',
        warnings: null,
      },
    ],
  };
}

function fakeIo(overrides: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    isTTY: false,
    env: {},
    ...overrides,
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

describe('nestjs-tracing CLI', () => {
  let dir: string;
  let file: string;
  const traces = [traceWith('aaa111', 'GET /orders'), traceWith('bbb222', 'GET /users')];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tracing-cli-'));
    file = join(dir, 'traces.json');
    await writeFile(file, JSON.stringify({ data: traces }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('renders the file as a waterfall, without color when stdout is not a terminal', async () => {
    const { io, stdout, stderr } = fakeIo({ columns: 200 });
    expect(await runCli(['render', file], io)).toBe(0);
    expect(stdout()).toBe(renderWaterfall(traces, { width: 100 }));
    expect(stderr()).toBe('');
  });

  it('honours --width, --trace and the terminal width', async () => {
    const { io, stdout } = fakeIo({ columns: 60 });
    expect(await runCli(['render', file, '--trace', 'BBB', '--width=50'], io)).toBe(0);
    expect(stdout()).toBe(renderWaterfall([traces[1]!], { width: 50 }));

    const narrow = fakeIo({ columns: 60 });
    await runCli(['render', file], narrow.io);
    expect(narrow.stdout()).toBe(renderWaterfall(traces, { width: 60 }));
  });

  it('colors on a terminal unless --no-color or NO_COLOR', async () => {
    const tty = fakeIo({ isTTY: true });
    await runCli(['render', file], tty.io);
    expect(tty.stdout()).toContain('\x1b[');

    const flag = fakeIo({ isTTY: true });
    await runCli(['render', file, '--no-color'], flag.io);
    expect(flag.stdout()).not.toContain('\x1b[');

    const env = fakeIo({ isTTY: true, env: { NO_COLOR: '1' } });
    await runCli(['render', file], env.io);
    expect(env.stdout()).not.toContain('\x1b[');
  });

  it('accepts a bare array and a single trace', async () => {
    const single = join(dir, 'single.json');
    await writeFile(single, JSON.stringify(traces[0]));
    const { io, stdout } = fakeIo();
    expect(await runCli(['render', single], io)).toBe(0);
    expect(stdout()).toContain('GET /orders');
  });

  it('exits 1 with a message for a missing file', async () => {
    const { io, stdout, stderr } = fakeIo();
    expect(await runCli(['render', join(dir, 'nope.json')], io)).toBe(1);
    expect(stderr()).toBe(`nestjs-tracing: No such file: ${join(dir, 'nope.json')}\n`);
    expect(stdout()).toBe('');
  });

  it('exits 1 for a file that is not a Jaeger trace file', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"resourceSpans": [');
    const { io, stderr } = fakeIo();
    expect(await runCli(['render', bad], io)).toBe(1);
    expect(stderr()).toContain(`${bad} is not a Jaeger JSON trace file`);
  });

  it('exits 1 for an unknown command or option, with the usage', async () => {
    const command = fakeIo();
    expect(await runCli(['draw', file], command.io)).toBe(1);
    expect(command.stderr()).toContain('Unknown command "draw".');
    expect(command.stderr()).toContain('Usage: nestjs-tracing render <file>');

    const option = fakeIo();
    expect(await runCli(['render', file, '--colour'], option.io)).toBe(1);
    expect(option.stderr()).toContain('Unknown option "--colour".');

    expect(await runCli(['render', file, '--width', 'wide'], fakeIo().io)).toBe(1);
    expect(await runCli([], fakeIo().io)).toBe(1);
  });

  it('prints the usage for --help', async () => {
    const { io, stdout } = fakeIo();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(stdout()).toContain('Usage: nestjs-tracing render <file> [--width N] [--no-color] [--trace <id-prefix>]');
  });
});
