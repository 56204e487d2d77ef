/**
 * The pure half of `npm run bench`: what a run measured, the Mart / baseline ratios, the targets
 * of issue 11 with PASS/MISS, and the tables. No I/O here, so a unit test keeps it honest.
 */
import { percentOfCore, type CpuPerOp, type CpuWindow } from './cpu.ts';
import { summarize, type LatencySummary } from './stats.ts';
import type { WorkPerOp } from './work.ts';

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
  return {
    p50: divide(mart.latency.p50, baseline.latency.p50),
    p99: divide(mart.latency.p99, baseline.latency.p99),
    rps: divide(mart.rps, baseline.rps),
  };
}

const divide = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? round(a / b) : NaN);

/** `rate`: a fixed moderate rate, for latency. `max`: a closed loop (each connection or customer starts again when answered). */
export type Mode = 'rate' | 'max';

export interface Row {
  /** Stable key in the JSON, e.g. `W1.rate`, `W1.c10`, `B1/W1.max`, `B1.alone/W1.max`, `W1x2.rate`. */
  key: string;
  workload: string;
  mode: Mode;
  /** How the load was made: `200/s, 10 conn` or `32 conn`. */
  load: string;
  /** The rate asked for (mode rate). */
  rate?: number;
  result: Measured;
  /** The key of the row this one is compared with, if any. */
  baseline?: string;
  /** The machine's 1-minute load average just before the row ran: how quiet its figures are. */
  loadAverage?: number;
  /** CPU per operation over the measured window. */
  cpu?: CpuPerOp;
  /** The window's CPU by group of processes. */
  cpuWindow?: CpuWindow;
  /** Commands, SQL, transactions, events and requests per operation, where they were counted. */
  work?: WorkPerOp;
  /** Monotonic ms of the window's edges (CLOCK_MONOTONIC, as in a --cpu-prof profile), to cut a profile to it. */
  window?: { startMs: number; endMs: number };
  /** Other engineers' test runs seen while the row ran: its figures are not quiet ones. */
  testRuns?: string[];
}

/** Issue 11's workloads: W1 with 10 connections and W3 with 8 customers, both closed loops. */
export const ROWS = {
  w1: 'W1.c10',
  w1Max: 'W1.max',
  b1Max: 'B1.alone/W1.max',
  w3: 'W3.c8',
} as const;

/** Issue 11's targets for a 2-core machine. */
export const TARGETS = {
  idlePercentOfCore: 10,
  w1CpuMs: 2.5,
  w3CpuMs: 30,
  placeToPaidP50Ms: 150,
  w1ShareOfB1: 0.6,
  warmStartSeconds: 10,
  statelessRssMiB: 80,
} as const;

/** Figures that are not workload rows: the idle stack, the start, memory. */
export interface StackFigures {
  /** Mart's processes (services, broker, its PostgreSQL) while idle, in % of one core. */
  idleStackPercent?: number;
  /** Launch to every service ready, on broker storage and a database that were used before. */
  warmStartMs?: number;
  /** RSS of every service but db-service, in MiB. */
  statelessRssMiB?: Record<string, number>;
}

export interface TargetCheck {
  /** The row judged, or `idle`, `start`, `rss`. */
  row: string;
  name: string;
  value: number;
  limit: number;
  pass: boolean;
}

/** Issue 11's targets; what did not run is not judged. A figure that could not be measured (NaN) misses. */
export function checkTargets(rows: Row[], figures: StackFigures = {}): TargetCheck[] {
  const byKey = new Map(rows.map((row) => [row.key, row]));
  const checks: TargetCheck[] = [];
  const atMost = (row: string, name: string, value: number, limit: number) =>
    checks.push({ row, name, value, limit, pass: Number.isFinite(value) && value <= limit });
  if (figures.idleStackPercent !== undefined)
    atMost(
      'idle',
      `stack CPU while idle ≤ ${TARGETS.idlePercentOfCore} % of one core`,
      figures.idleStackPercent,
      TARGETS.idlePercentOfCore,
    );
  const w1 = byKey.get(ROWS.w1);
  if (w1?.cpu) atMost(ROWS.w1, `CPU per request ≤ ${TARGETS.w1CpuMs} ms`, w1.cpu.msPerOp, TARGETS.w1CpuMs);
  const w3 = byKey.get(ROWS.w3);
  if (w3?.cpu) atMost(ROWS.w3, `CPU per checkout ≤ ${TARGETS.w3CpuMs} ms`, w3.cpu.msPerOp, TARGETS.w3CpuMs);
  if (w3) atMost(ROWS.w3, `place → PAID p50 ≤ ${TARGETS.placeToPaidP50Ms} ms`, w3.result.latency.p50, TARGETS.placeToPaidP50Ms);
  const w1Max = byKey.get(ROWS.w1Max);
  const b1Max = byKey.get(ROWS.b1Max);
  if (w1Max && b1Max) {
    const share = b1Max.result.rps > 0 ? round(w1Max.result.rps / b1Max.result.rps) : 0;
    const limit = TARGETS.w1ShareOfB1;
    checks.push({ row: ROWS.w1Max, name: `req/s ≥ ${limit * 100}% of B1 (Mart stopped)`, value: share, limit, pass: share >= limit });
  }
  if (figures.warmStartMs !== undefined)
    atMost('start', `warm start ≤ ${TARGETS.warmStartSeconds} s`, round(figures.warmStartMs / 1000, 1), TARGETS.warmStartSeconds);
  const rss = Object.entries(figures.statelessRssMiB ?? {}).sort(([, a], [, b]) => b - a)[0];
  if (rss) atMost('rss', `stateless service RSS ≤ ${TARGETS.statelessRssMiB} MiB (largest: ${rss[0]})`, rss[1], TARGETS.statelessRssMiB);
  // A checkout that fails is not a cheaper checkout: the CPU and latency figures only count with none.
  for (const key of [ROWS.w1, 'W3.rate', ROWS.w3, 'W3.max', 'W3x2.rate', 'W3x2.max']) {
    const row = byKey.get(key);
    if (row) checks.push({ row: key, name: 'no error', value: row.result.errors, limit: 0, pass: row.result.errors === 0 });
  }
  return checks;
}

/** Every row's ratio to its baseline: latency at a fixed rate, throughput in a closed loop, and CPU per operation. */
export function ratios(rows: Row[]): Record<string, Ratio & { baseline: string; cpu?: number }> {
  const byKey = new Map(rows.map((row) => [row.key, row]));
  const out: Record<string, Ratio & { baseline: string; cpu?: number }> = {};
  for (const row of rows) {
    const baseline = row.baseline ? byKey.get(row.baseline) : undefined;
    if (!baseline) continue;
    const cpu = row.cpu && baseline.cpu ? divide(row.cpu.msPerOp, baseline.cpu.msPerOp) : undefined;
    out[row.key] = { baseline: baseline.key, ...ratio(row.result, baseline.result), ...(cpu === undefined ? {} : { cpu }) };
  }
  return out;
}

const ms = (value: number) => (Number.isFinite(value) ? (value < 10 ? value.toFixed(2) : value.toFixed(1)) : '–');
const times = (value: number) => (Number.isFinite(value) ? `×${value.toFixed(2)}` : '–');

/** Right-aligned numbers, left-aligned text, two spaces between columns. */
function alignedTable(header: string[], lines: string[][], numeric: Set<number>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [format(header), widths.map((width) => '-'.repeat(width)).join('  '), ...lines.map(format)].join('\n');
}

/**
 * The one table: workload, mode, p50/p90/p99, req/s, CPU per operation (the machine's, and Mart's
 * processes' only), errors, baseline, ratio, the other tenants' CPU and the load average (how
 * quiet the machine was), and MISS where a target of the row was missed.
 */
export function formatTable(rows: Row[], checks: TargetCheck[] = checkTargets(rows)): string {
  const rowRatios = ratios(rows);
  const header = [
    'workload',
    'mode',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'req/s',
    'CPU ms/op',
    'stack ms/op',
    'errors',
    'baseline',
    'ratio',
    'others',
    'load',
    'target',
  ];
  const lines = rows.map((row) => {
    const r = rowRatios[row.key];
    const ratioText = !r
      ? ''
      : [
          row.mode === 'rate' ? `p50 ${times(r.p50)} p99 ${times(r.p99)}` : `req/s ${times(r.rps)}`,
          ...(r.cpu === undefined ? [] : [`CPU ${times(r.cpu)}`]),
        ].join(' ');
    const judged = checks.filter((check) => check.row === row.key);
    const targetText = judged.length === 0 ? '' : judged.every((check) => check.pass) ? 'PASS' : 'MISS';
    const { latency } = row.result;
    return [
      row.workload,
      `${row.mode} (${row.load})`,
      ms(latency.p50),
      ms(latency.p90),
      ms(latency.p99),
      row.result.rps.toFixed(1),
      row.cpu ? ms(row.cpu.msPerOp) : '',
      row.cpu ? ms(row.cpu.stackMsPerOp) : '',
      String(row.result.errors),
      r?.baseline ?? '',
      ratioText,
      row.cpu ? row.cpu.othersCores.toFixed(2) : '',
      row.loadAverage === undefined ? '' : row.loadAverage.toFixed(1),
      targetText,
    ];
  });
  return alignedTable(header, lines, new Set([2, 3, 4, 5, 6, 7, 8, 11, 12]));
}

/** Issue 11's targets, one line each, with the measured value. */
export function formatTargets(checks: TargetCheck[]): string {
  const passed = checks.filter((check) => check.pass).length;
  return [
    `Targets (issue 11): ${passed} PASS, ${checks.length - passed} MISS`,
    ...checks.map((check) => `  ${check.pass ? 'PASS' : 'MISS'}  ${check.row.padEnd(10)}  ${check.name}  (measured ${check.value})`),
  ].join('\n');
}

/**
 * Where a window's CPU went: each group of processes in ms, % of one core and, given the
 * operations, ms per operation. The first line is the machine's busy total and what was subtracted.
 */
export function formatCpuBreakdown(window: CpuWindow, operations?: number): string {
  const perOp = (value: number) => (operations && operations > 0 ? ms(value / operations) : '');
  const header = ['process', 'CPU ms', '% of a core', operations ? 'ms/op' : ''];
  const line = (name: string, value: number) => [name, value.toFixed(0), percentOfCore(value, window.seconds).toFixed(1), perOp(value)];
  const lines = [
    ...window.groups
      .filter((group) => group.ms > 0 || group.role === 'stack')
      .map((group) => line(`${group.name}${group.role === 'load' || group.role === 'bench' ? ' (subtracted)' : ''}`, group.ms)),
    line('machine busy (/proc/stat)', window.busyMs),
    line('system under test (busy − load − bench)', window.systemMs),
    line('Mart stack (its processes only)', window.stackMs),
  ];
  return alignedTable(header, lines, new Set([1, 2, 3]))
    .split('\n')
    .map((text) => `  ${text}`)
    .join('\n');
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
