import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { traceLogFields } from './trace-log-fields.js';

type JsonLogOptions = Parameters<ConsoleLogger['getJsonLogObject']>[1];

/**
 * Nest's ConsoleLogger with the active span's ids on every line: `trace_id`, `span_id` and
 * `trace_flags` fields with `json: true`, a ` trace_id=… span_id=…` suffix in text mode,
 * nothing when no span is active. Takes ConsoleLogger's constructor arguments:
 * `NestFactory.create(AppModule, { logger: new TracingLogger({ json: true }) })`.
 */
export class TracingLogger extends ConsoleLogger {
  protected override getJsonLogObject(message: unknown, options: JsonLogOptions) {
    return { ...super.getJsonLogObject(message, options), ...traceLogFields() };
  }

  protected override formatMessage(
    logLevel: LogLevel,
    message: unknown,
    pidMessage: string,
    formattedLogLevel: string,
    contextMessage: string,
    timestampDiff: string,
    // Nest 12 passes the log call's params; Nest 11 has no such argument
    ...rest: unknown[]
  ): string {
    const line = (super.formatMessage as (...args: unknown[]) => string).call(
      this,
      logLevel,
      message,
      pidMessage,
      formattedLogLevel,
      contextMessage,
      timestampDiff,
      ...rest,
    );
    const { trace_id, span_id } = traceLogFields();
    if (!trace_id) return line;
    const suffix = ` trace_id=${trace_id} span_id=${span_id}`;
    return line.endsWith('\n') ? `${line.slice(0, -1)}${suffix}\n` : line + suffix;
  }
}
