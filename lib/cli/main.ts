#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseJaegerDocument } from '../export/jaeger-json.js';
import { renderWaterfall } from '../render/waterfall.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
  columns?: number;
  env?: Record<string, string | undefined>;
}

const USAGE = `Usage: nestjs-tracing render <file> [--width N] [--no-color] [--trace <id-prefix>]

Draws the traces of a Jaeger JSON file (as written by JaegerFileExporter or
downloaded from Jaeger UI) as a waterfall in the terminal.

Options:
  --width N            line width (default: the terminal width, at most 100)
  --no-color           no ANSI colors (also when NO_COLOR is set or output is not a terminal)
  --trace <id-prefix>  only the traces whose id starts with this
  -h, --help           show this help
`;

const MAX_DEFAULT_WIDTH = 100;

class UsageError extends Error {}

/** Runs the CLI for `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  try {
    const [command, ...rest] = argv;
    if (command !== 'render') {
      throw new UsageError(command ? `Unknown command "${command}".` : 'Missing command.');
    }
    return await render(parseRenderArgs(rest), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`nestjs-tracing: ${error.message}\n\n${USAGE}`);
      return 1;
    }
    io.stderr(`nestjs-tracing: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

interface RenderArgs {
  file: string;
  width?: number;
  color: boolean;
  tracePrefix?: string;
}

function parseRenderArgs(args: string[]): RenderArgs {
  const parsed: RenderArgs = { file: '', color: true };
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [flag = '', inline] = (args[i] ?? '').split(/=(.*)/s, 2);
    const value = (): string => {
      const next = inline ?? args[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value.`);
      return next;
    };
    if (flag === '--width') {
      const width = Number(value());
      if (!Number.isInteger(width) || width <= 0) throw new UsageError('--width must be a positive integer.');
      parsed.width = width;
    } else if (flag === '--no-color') {
      parsed.color = false;
    } else if (flag === '--trace') {
      parsed.tracePrefix = value().toLowerCase();
    } else if (flag.startsWith('-')) {
      throw new UsageError(`Unknown option "${flag}".`);
    } else {
      files.push(args[i] ?? '');
    }
  }
  if (files.length !== 1) throw new UsageError(files.length ? 'Give one file.' : 'Missing <file>.');
  parsed.file = files[0] ?? '';
  return parsed;
}

async function render(args: RenderArgs, io: CliIo): Promise<number> {
  let text: string;
  try {
    text = await readFile(args.file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `No such file: ${args.file}` : `Cannot read ${args.file}: ${String(error)}`, {
      cause: error,
    });
  }
  let traces;
  try {
    traces = parseJaegerDocument(JSON.parse(text));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${args.file} is not a Jaeger JSON trace file (${reason}).`, { cause: error });
  }
  const prefix = args.tracePrefix;
  if (prefix !== undefined) {
    traces = traces.filter((trace) => trace.traceID.toLowerCase().startsWith(prefix));
    if (!traces.length) throw new Error(`No trace id starts with "${prefix}" in ${args.file}.`);
  }
  if (!traces.length) {
    io.stderr(`nestjs-tracing: ${args.file} holds no traces.\n`);
    return 0;
  }
  const env = io.env ?? process.env;
  const width = args.width ?? Math.min(io.columns || MAX_DEFAULT_WIDTH, MAX_DEFAULT_WIDTH);
  const color = args.color && io.isTTY && !env.NO_COLOR;
  io.stdout(renderWaterfall(traces, { width, color }));
  return 0;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // npm links bins through node_modules/.bin, so compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
    columns: process.stdout.columns,
  });
}
