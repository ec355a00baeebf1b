import type { JaegerSpan, JaegerTrace } from '../export/jaeger-json.js';

export interface WaterfallOptions {
  /** Columns every line fits in; at least 40. Default 100. */
  width?: number;
  /** ANSI colors: a color per service, errors in red. Default false. */
  color?: boolean;
}

type Segment = { text: string; ansi?: string };
type Row = { span: JaegerSpan; guide: string };

const MIN_WIDTH = 40;
const SERVICE_COLORS = ['36', '35', '33', '34', '32', '96', '95', '93', '94', '92'];
const RED = '31';
const BOLD = '1';
const ERROR_MARK = '✗';

export function renderWaterfall(traces: JaegerTrace[], options: WaterfallOptions = {}): string {
  const width = Math.max(MIN_WIDTH, Math.floor(options.width ?? 100));
  const serviceColors = new Map<string, string>();
  const colorOf = (service: string): string => {
    let color = serviceColors.get(service);
    if (!color) {
      color = SERVICE_COLORS[serviceColors.size % SERVICE_COLORS.length] ?? '';
      serviceColors.set(service, color);
    }
    return color;
  };
  const paint = (segments: Segment[]): string =>
    segments.map(({ text, ansi }) => (options.color && ansi && text ? `\x1b[${ansi}m${text}\x1b[0m` : text)).join('');
  return traces.map((trace) => renderTrace(trace, width, colorOf).map(paint).join('\n') + '\n').join('\n');
}

function renderTrace(trace: JaegerTrace, width: number, colorOf: (service: string) => string): Segment[][] {
  const rows = treeRows(trace.spans);
  const start = rows.reduce((min, { span }) => Math.min(min, span.startTime), Infinity);
  const end = rows.reduce((max, { span }) => Math.max(max, span.startTime + span.duration), -Infinity);
  const total = rows.length ? Math.max(1, end - start) : 0;
  const serviceOf = (span: JaegerSpan): string => trace.processes[span.processID]?.serviceName ?? 'unknown_service';
  const services = [...new Set(rows.map(({ span }) => serviceOf(span)))];
  const errors = rows.filter(({ span }) => isError(span)).length;

  const header = [
    `trace ${trace.traceID}`,
    rows[0]?.span.operationName ?? '(no spans)',
    formatMs(total),
    `${rows.length} ${rows.length === 1 ? 'span' : 'spans'}`,
    services.join(', '),
    ...(errors ? [`${errors} ${errors === 1 ? 'error' : 'errors'} ${ERROR_MARK}`] : []),
  ].join(' · ');

  const durationWidth = rows.reduce((max, { span }) => Math.max(max, formatMs(span.duration).length), 0);
  const barWidth = Math.floor(width * 0.3);
  // label, space, duration, space, │bar│
  const labelWidth = width - durationWidth - barWidth - 4;

  const lines = rows.map(({ span, guide }) => {
    const service = serviceOf(span);
    const failed = isError(span);
    const label = fit(
      [{ text: guide }, { text: service, ansi: colorOf(service) }, { text: `: ${span.operationName}` }],
      failed ? [{ text: ` ${ERROR_MARK}`, ansi: RED }] : [],
      labelWidth,
    );
    const offset = Math.min(barWidth - 1, Math.floor(((span.startTime - start) / total) * barWidth));
    const length = Math.min(barWidth - offset, Math.max(1, Math.round((span.duration / total) * barWidth)));
    return [
      ...label,
      { text: ' '.repeat(labelWidth - textLength(label) + 1) },
      { text: `${formatMs(span.duration).padStart(durationWidth)} │${' '.repeat(offset)}` },
      { text: '█'.repeat(length), ansi: failed ? RED : colorOf(service) },
      { text: `${' '.repeat(barWidth - offset - length)}│` },
    ];
  });
  return [fit([{ text: header, ansi: BOLD }], [], width), ...lines];
}

/** Parent first, children by start time; a span whose parent is missing is a root. */
function treeRows(spans: JaegerSpan[]): Row[] {
  const sorted = [...spans].sort((a, b) => a.startTime - b.startTime);
  const byId = new Map(sorted.map((span) => [span.spanID, span]));
  const children = new Map<string, JaegerSpan[]>();
  const roots: JaegerSpan[] = [];
  for (const span of sorted) {
    // As Jaeger UI does: the first reference whose span is in the trace is the parent.
    const parentId = span.references.find((ref) => ref.spanID !== span.spanID && byId.has(ref.spanID))?.spanID;
    if (parentId) children.set(parentId, [...(children.get(parentId) ?? []), span]);
    else roots.push(span);
  }
  const rows: Row[] = [];
  const seen = new Set<string>();
  const walk = (span: JaegerSpan, guide: string, childGuide: string): void => {
    seen.add(span.spanID);
    rows.push({ span, guide });
    const kids = (children.get(span.spanID) ?? []).filter((kid) => !seen.has(kid.spanID));
    kids.forEach((kid, i) => {
      const last = i === kids.length - 1;
      walk(kid, childGuide + (last ? '└─ ' : '├─ '), childGuide + (last ? '   ' : '│  '));
    });
  };
  roots.forEach((root) => walk(root, '', ''));
  // Spans in a reference cycle have no root above them; show them rather than drop them.
  sorted.forEach((span) => seen.has(span.spanID) || walk(span, '', ''));
  return rows;
}

/** Cuts `body` with … so that body + `tail` fit in `width`; `tail` (the error mark) is kept whole. */
function fit(body: Segment[], tail: Segment[], width: number): Segment[] {
  if (textLength(body) + textLength(tail) <= width) return [...body, ...tail];
  let room = Math.max(0, width - textLength(tail) - 1);
  const kept: Segment[] = [];
  for (const segment of body) {
    const chars = Array.from(segment.text).slice(0, room);
    room -= chars.length;
    kept.push({ ...segment, text: chars.join('') });
  }
  return [...kept, { text: '…' }, ...tail];
}

function textLength(segments: Segment[]): number {
  return segments.reduce((sum, { text }) => sum + Array.from(text).length, 0);
}

function isError(span: JaegerSpan): boolean {
  return span.tags.some(
    ({ key, value }) =>
      (key === 'error' && (value === true || value === 'true')) || (key === 'otel.status_code' && value === 'ERROR'),
  );
}

function formatMs(microseconds: number): string {
  return `${(microseconds / 1000).toFixed(1)} ms`;
}
