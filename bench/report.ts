/**
 * The pure half of `npm run bench`: what a run measured, the Mart / baseline ratios, the targets
 * of issue 7 with PASS/MISS, and the one table. No I/O here, so a unit test keeps it honest.
 */
import { summarize, type LatencySummary } from './stats.ts';

/** What one load-generating process saw during its measured window (after warm-up). */
export interface RawRun {
  /** Latency of each successful request or checkout, in milliseconds. */
  samples: number[];
  /** Requests (or checkouts) that succeeded. */
  ok: number;
  /** Wrong status, socket error, timeout, or a checkout that did not reach PAID. */
  errors: number;
  seconds: number;
  /** A few error messages, to say what went wrong. */
  errorExamples?: string[];
  /** Latency of each step of a multi-step operation (W3: place, pay, until PAID), in milliseconds. */
  steps?: Record<string, number[]>;
}

export interface Measured {
  ok: number;
  errors: number;
  seconds: number;
  /** Successful requests (or checkouts) per second. */
  rps: number;
  latency: LatencySummary;
  /** One entry per load process when the load was spread over several instances. */
  parts?: { ok: number; errors: number; rps: number; latency: LatencySummary }[];
  steps?: Record<string, LatencySummary>;
}

const round = (value: number, places = 2) => Math.round(value * 10 ** places) / 10 ** places;

/** The runs of parallel load processes as one: throughput adds up, latencies are pooled. */
export function combine(runs: RawRun[]): Measured {
  if (runs.length === 0) throw new Error('combine() needs at least one run');
  const parts = runs.map((run) => ({
    ok: run.ok,
    errors: run.errors,
    rps: run.seconds > 0 ? round(run.ok / run.seconds, 1) : 0,
    latency: summarize(run.samples),
  }));
  const stepNames = [...new Set(runs.flatMap((run) => Object.keys(run.steps ?? {})))];
  return {
    ok: parts.reduce((sum, part) => sum + part.ok, 0),
    errors: parts.reduce((sum, part) => sum + part.errors, 0),
    seconds: round(Math.max(...runs.map((run) => run.seconds)), 1),
    rps: round(
      parts.reduce((sum, part) => sum + part.rps, 0),
      1,
    ),
    latency: summarize(runs.flatMap((run) => run.samples)),
    ...(runs.length > 1 ? { parts } : {}),
    ...(stepNames.length > 0
      ? { steps: Object.fromEntries(stepNames.map((step) => [step, summarize(runs.flatMap((run) => run.steps?.[step] ?? []))])) }
      : {}),
  };
}

export interface Ratio {
  p50: number;
  p99: number;
  rps: number;
}

/** Mart divided by its baseline: above 1 is slower for latency, below 1 is less throughput. */
export function ratio(mart: Measured, baseline: Measured): Ratio {
  const divide = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? round(a / b) : NaN);
  return {
    p50: divide(mart.latency.p50, baseline.latency.p50),
    p99: divide(mart.latency.p99, baseline.latency.p99),
    rps: divide(mart.rps, baseline.rps),
  };
}

/** `rate`: a fixed moderate rate, for latency. `max`: saturation, for throughput. */
export type Mode = 'rate' | 'max';

export interface Row {
  /** Stable key in the JSON, e.g. `W1.rate`, `B1/W1.max`, `W1x2.rate`. */
  key: string;
  workload: string;
  mode: Mode;
  /** How the load was made: `200/s, 10 conn` or `32 conn`. */
  load: string;
  /** The rate asked for (mode rate): a latency target holds only if the rate was reached. */
  rate?: number;
  result: Measured;
  /** The key of the row this one is compared with, if any. */
  baseline?: string;
  /** The machine's 1-minute load average just before the row ran: how quiet its figures are. */
  loadAverage?: number;
}

export interface TargetCheck {
  row: string;
  name: string;
  value: number;
  limit: number;
  pass: boolean;
}

/** Issue 7's targets for 2-core machines; rows that did not run are not judged. */
export function checkTargets(rows: Row[]): TargetCheck[] {
  const byKey = new Map(rows.map((row) => [row.key, row]));
  const checks: TargetCheck[] = [];
  const w1Rate = byKey.get('W1.rate');
  if (w1Rate) {
    const reached = round(w1Rate.result.rps / (w1Rate.rate ?? 200));
    checks.push({ row: 'W1.rate', name: 'rate reached (≥ 95%)', value: reached, limit: 0.95, pass: reached >= 0.95 });
    checks.push({ row: 'W1.rate', name: 'p50 ≤ 3 ms', value: w1Rate.result.latency.p50, limit: 3, pass: w1Rate.result.latency.p50 <= 3 });
    checks.push({
      row: 'W1.rate',
      name: 'p99 ≤ 15 ms',
      value: w1Rate.result.latency.p99,
      limit: 15,
      pass: w1Rate.result.latency.p99 <= 15,
    });
  }
  const w1Max = byKey.get('W1.max');
  const b1Max = byKey.get('B1/W1.max');
  if (w1Max && b1Max) {
    const share = b1Max.result.rps > 0 ? round(w1Max.result.rps / b1Max.result.rps) : 0;
    checks.push({ row: 'W1.max', name: 'req/s ≥ 50% of B1', value: share, limit: 0.5, pass: share >= 0.5 });
  }
  const w3Max = byKey.get('W3.max');
  if (w3Max) {
    checks.push({ row: 'W3.max', name: '≥ 200 checkouts/s', value: w3Max.result.rps, limit: 200, pass: w3Max.result.rps >= 200 });
    checks.push({ row: 'W3.max', name: 'no error', value: w3Max.result.errors, limit: 0, pass: w3Max.result.errors === 0 });
  }
  for (const key of ['W3.rate', 'W3x2.rate', 'W3x2.max']) {
    const row = byKey.get(key);
    if (row) checks.push({ row: key, name: 'no error', value: row.result.errors, limit: 0, pass: row.result.errors === 0 });
  }
  return checks;
}

/** Every row's ratio to its baseline: latency ratios at a fixed rate, throughput at saturation. */
export function ratios(rows: Row[]): Record<string, Ratio & { baseline: string }> {
  const byKey = new Map(rows.map((row) => [row.key, row]));
  const out: Record<string, Ratio & { baseline: string }> = {};
  for (const row of rows) {
    const baseline = row.baseline ? byKey.get(row.baseline) : undefined;
    if (baseline) out[row.key] = { baseline: baseline.key, ...ratio(row.result, baseline.result) };
  }
  return out;
}

const ms = (value: number) => (Number.isFinite(value) ? (value < 10 ? value.toFixed(2) : value.toFixed(1)) : '–');
const times = (value: number) => (Number.isFinite(value) ? `×${value.toFixed(2)}` : '–');

/** The one table: workload, mode, p50, p90, p99, req/s, errors, baseline, ratio, target, load average. */
export function formatTable(rows: Row[], checks: TargetCheck[] = checkTargets(rows)): string {
  const rowRatios = ratios(rows);
  const header = ['workload', 'mode', 'p50 ms', 'p90 ms', 'p99 ms', 'req/s', 'errors', 'baseline', 'ratio', 'target', 'load'];
  const lines = rows.map((row) => {
    const r = rowRatios[row.key];
    const ratioText = !r ? '' : row.mode === 'rate' ? `p50 ${times(r.p50)} p99 ${times(r.p99)}` : `req/s ${times(r.rps)}`;
    const targetText = checks
      .filter((check) => check.row === row.key)
      .map((check) => `${check.name} ${check.pass ? 'PASS' : 'MISS'}`)
      .join('; ');
    const { latency } = row.result;
    return [
      row.workload,
      `${row.mode} (${row.load})`,
      ms(latency.p50),
      ms(latency.p90),
      ms(latency.p99),
      row.result.rps.toFixed(1),
      String(row.result.errors),
      r?.baseline ?? '',
      ratioText,
      targetText,
      row.loadAverage === undefined ? '' : row.loadAverage.toFixed(1),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const numeric = new Set([2, 3, 4, 5, 6]);
  const format = (cells: string[]) =>
    cells
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [format(header), widths.map((width) => '-'.repeat(width)).join('  '), ...lines.map(format)].join('\n');
}

/** `--only W1,W3` → the workloads to run; baselines and scale-out follow the workloads they serve. */
export function selectWorkloads(only: string | undefined): Set<Workload> {
  const all: Workload[] = ['W1', 'W2', 'W3', 'W4', 'B2', 'scale'];
  if (!only) return new Set(all);
  const wanted = only.split(',').map((name) => name.trim().toUpperCase());
  const unknown = wanted.filter((name) => !all.some((workload) => workload.toUpperCase() === name));
  if (unknown.length > 0) throw new Error(`--only: unknown workload ${unknown.join(', ')} (choose from ${all.join(', ')})`);
  return new Set(all.filter((workload) => wanted.includes(workload.toUpperCase())));
}

/** W1..W4 are Mart's workloads; B2 is the bare Kafka round trip; scale is W1 and W3 on two instances. */
export type Workload = 'W1' | 'W2' | 'W3' | 'W4' | 'B2' | 'scale';
