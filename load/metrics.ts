// Request metrics and the k6-like summary the Node driver prints.

export interface Sample {
  op: string;
  /** HTTP status, or 0 when no response came (network error or timeout). */
  status: number;
  ms: number;
  /** performance.now() when the response (or the failure) came. */
  at: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export interface LatencySummary {
  count: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarise(values: number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    avg: sorted.length ? sum / sorted.length : 0,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

export interface Threshold {
  name: string;
  ok: boolean;
  actual: string;
}

export class Metrics {
  readonly samples: Sample[] = [];
  private readonly started = performance.now();
  private finished: number | null = null;
  /** Iterations an arrival-rate run could not start because every VU was busy. */
  dropped = 0;
  /** Durations that are not one request each (k6's custom Trend metrics), by name. */
  readonly trends = new Map<string, number[]>();

  add(op: string, status: number, ms: number): void {
    this.samples.push({ op, status, ms, at: performance.now() });
  }

  trend(name: string, ms: number): void {
    const values = this.trends.get(name) ?? [];
    values.push(ms);
    this.trends.set(name, values);
  }

  finish(): void {
    this.finished ??= performance.now();
  }

  get seconds(): number {
    return ((this.finished ?? performance.now()) - this.started) / 1000;
  }

  latency(op?: string): LatencySummary {
    return summarise(this.samples.filter((s) => !op || s.op === op).map((s) => s.ms));
  }

  statusCounts(op?: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const sample of this.samples) {
      if (op && sample.op !== op) continue;
      const key = sample.status === 0 ? 'no-response' : String(sample.status);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  ops(): string[] {
    return [...new Set(this.samples.map((s) => s.op))].sort();
  }

  /** Samples whose status is not among the ones expected for their operation. */
  unexpected(expected: (op: string) => number[]): Sample[] {
    return this.samples.filter((s) => !expected(s.op).includes(s.status));
  }
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)}ms`;
const dots = (label: string, width = 34) => `${label}${'.'.repeat(Math.max(2, width - label.length))}:`;

export function formatLatency(l: LatencySummary): string {
  return `avg=${ms(l.avg)} p(50)=${ms(l.p50)} p(95)=${ms(l.p95)} p(99)=${ms(l.p99)} max=${ms(l.max)}`;
}

export function formatStatuses(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}=${count}`)
    .join(' ');
}

/** Prints one scenario the way k6's end-of-test summary does, and returns whether it passed. */
export function printScenario(title: string, description: string, metrics: Metrics, thresholds: Threshold[]): boolean {
  const lines = [`\n  scenario: ${title}`, `    ${description}`, ''];
  lines.push(`    ${dots('http_reqs')} ${metrics.samples.length}  ${(metrics.samples.length / metrics.seconds).toFixed(1)}/s over ${metrics.seconds.toFixed(1)}s`);
  lines.push(`    ${dots('http_req_duration')} ${formatLatency(metrics.latency())}`);
  for (const op of metrics.ops()) {
    lines.push(`    ${dots(`  { op:${op} }`)} ${formatLatency(metrics.latency(op))}`);
  }
  lines.push(`    ${dots('status')} ${formatStatuses(metrics.statusCounts())}`);
  for (const op of metrics.ops()) {
    lines.push(`    ${dots(`  { op:${op} }`)} ${formatStatuses(metrics.statusCounts(op))}`);
  }
  for (const [name, values] of [...metrics.trends].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`    ${dots(name)} ${formatLatency(summarise(values))} (${values.length})`);
  }
  if (metrics.dropped) lines.push(`    ${dots('dropped_iterations')} ${metrics.dropped}`);
  lines.push('');
  for (const threshold of thresholds) {
    lines.push(`    ${threshold.ok ? '✓' : '✗'} ${threshold.name} (${threshold.actual})`);
  }
  console.log(lines.join('\n'));
  return thresholds.every((t) => t.ok);
}
