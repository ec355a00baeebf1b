import type { LoggerService } from '@nestjs/common';

/**
 * A silent Nest logger that keeps every line, with its level and context. Give it to the
 * app (`createNestApplication(..., { logger })`) to read what the library logged. Nest's
 * logger is one per process, so every app of a test shares the one given last.
 */
export class CapturedLogs implements LoggerService {
  readonly lines: Array<{ level: string; message: string; context?: string }> = [];
  log(message: unknown, context?: string): void {
    this.add('log', message, context);
  }
  warn(message: unknown, context?: string): void {
    this.add('warn', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.add('error', message, rest[rest.length - 1] as string | undefined);
  }
  debug(): void {}
  verbose(): void {}
  /** Lines from the tracing library matching `pattern`. */
  tracing(pattern: RegExp): Array<{ level: string; message: string }> {
    return this.lines.filter((l) => l.context === 'Tracing' && pattern.test(l.message));
  }
  private add(level: string, message: unknown, context?: string): void {
    this.lines.push({ level, message: String(message), context });
  }
}
