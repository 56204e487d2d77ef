/**
 * `npm run bench`: the benchmark of issues 7 and 11. Starts the whole stack (broker, database
 * mart_bench recreated, all 11 services at the dev ports + 21000), stops it and starts it again
 * on the same broker storage (the warm start), measures the idle stack's CPU, seeds the catalog,
 * then measures each workload at a fixed moderate rate (latency) and in closed loops (throughput),
 * next to its baselines:
 *
 *   W1  GET /products/:id, random ids of the seeded catalog        B1  the same W1/W2 requests
 *   W2  GET /products?q=<word>&categoryId=<id>, random pairs            served by a minimal Express
 *   W3  checkout: POST /orders, POST /payments (pm_card_visa),          app calling db-service's
 *       GET /orders/:id until PAID                                      product handlers with Prisma
 *   W4  POST /auth/login of a customer                              B2  the bare Kafka round trip
 *
 * then W1 and W3 again with two instances each of product-, order- and db-service (scale-out),
 * and last B1 again with the Mart stack stopped. Issue 11's workloads are the rows W1.c10 (closed
 * loop, 10 connections) and W3.c8 (8 customers, closed loop); W1.max and W3.max are the
 * saturation rows. Every row reports CPU per operation: the machine's busy time (/proc/stat) over
 * the measured window minus the load generators' and the bench's own, divided by the successful
 * operations, with the CPU of each process group (bench/cpu.ts). W1.c10 and W3.c8 also count the
 * work per operation (bench/work.ts): db commands, SQL, transactions, events, HTTP requests, Kafka
 * messages, rows written.
 *
 * Every load generator is a child process: autocannon (bench/load.worker.ts) for W1, W2, W4 and
 * B1, bench/checkout.driver.ts for W3, bench/kafka.roundtrip.ts for B2. Each warms up, then
 * waits for the bench to take its counts before its window (bench/window.ts). Scale-out runs one
 * load process per HTTP instance, each with half the rate or half the connections; throughputs
 * add up and latencies are pooled (each instance's figures are in the JSON as `parts`).
 *
 *   npm run bench -- [--quick] [--only W1,W2,W3,W4,B2,scale] [--products 10000] [--seconds 15]
 *                    [--rate 200] [--connections 32] [--checkout-rate 20] [--checkout-concurrency 32]
 *                    [--idle-seconds 30] [--profile <dir>] [--check] [--keep-logs]
 *
 * --quick is a smoke run (2000 products, 3 s windows, 5 s idle); --check exits 1 when one of issue
 * 11's targets is missed; --profile <dir> samples every service and B1 with V8's profiler and
 * leaves a profile per process there (cut one to a row's window with bench/profile-summary.ts);
 * --keep-logs leaves the services' logs in the temporary directory it names at the end.
 * BENCH_DATABASE_URL picks another database (it is dropped and recreated), e.g. when another
 * bench on this machine uses mart_bench at the same time.
 * Prints the start times, the idle breakdown, one table (workload, mode, p50/p90/p99, req/s, CPU
 * ms/op of the machine and of Mart's processes, errors, baseline, ratio, other tenants' CPU in
 * cores, load average, target), W3's place → PAID, the work per checkout and per W1 request, the
 * CPU breakdown of W1.c10 and W3.c8, B1 with Mart running vs stopped, the targets, and writes
 * bench/results/bench-<time>.json with every figure (each row's CPU by process group and its
 * window's edges), the machine and each process's RSS. A row measured while another engineer's
 * test run was going says NOT QUIET. Only one bench at a time on a machine: two spoil each other.
 * The focused benches stay as bench:catalog (search plan), bench:login (bcrypt cost) and
 * bench:orders (order placement latency).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createKafka } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { seedCheckout } from '../tools/checkout.seed.ts';
import { commandLineOf } from '../tools/process.ts';
import { saveResults } from '../tools/results.ts';
import { withRpcClient } from '../tools/rpc.ts';
import { REPO_ROOT, SERVICES, portsAt, type ServiceName } from '../tools/services.ts';
import { seedCatalog } from '../tools/seed.ts';
import { isReady, localDatabaseUrl } from '../tools/stack.ts';
import { rssMiB, startBenchStack } from './bench.stack.ts';
import type { CheckoutPlan } from './checkout.driver.ts';
import { cpuPerOp, cpuWindow, percentOfCore, type Root } from './cpu.ts';
import { CLOCK_TICKS, CpuSampler } from './cpu.sampler.ts';
import type { RoundTripPlan } from './kafka.roundtrip.ts';
import type { LoadPlan } from './load.worker.ts';
import {
  ROWS,
  checkTargets,
  combine,
  formatCpuBreakdown,
  formatTable,
  formatTargets,
  ratio,
  ratios,
  selectWorkloads,
  type RawRun,
  type Row,
  type StackFigures,
} from './report.ts';
import type { ChildMessage, ParentMessage } from './window.ts';
import { WorkCounter } from './work.counter.ts';
import { formatWork, workPerOp, type WorkCounts } from './work.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    products: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string', default: '200' },
    connections: { type: 'string', default: '32' },
    'checkout-rate': { type: 'string', default: '20' },
    'checkout-concurrency': { type: 'string', default: '32' },
    'idle-seconds': { type: 'string' },
    profile: { type: 'string' },
    check: { type: 'boolean', default: false },
    'keep-logs': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const settings = {
  products: Number(values.products ?? (quick ? 2000 : 10_000)),
  seconds: Number(values.seconds ?? (quick ? 3 : 15)),
  warmupSeconds: quick ? 1 : 3,
  /** W1, W2 and the baselines at a fixed rate, with this many connections. */
  rate: Number(values.rate),
  rateConnections: 10,
  /** Saturation: closed loops with this many connections (W1, W2, B1) or customers (W3). */
  connections: Number(values.connections),
  /** Issue 11's W1: a closed loop of 10 connections. */
  w1Connections: 10,
  /** Issue 11's W3: 8 customers, each checking out again as soon as the last order is PAID. */
  w3Customers: 8,
  /** bcrypt makes a login cost ~65 ms of CPU: a moderate rate is a few per second. */
  loginRate: 10,
  loginConnections: 8,
  checkoutRate: Number(values['checkout-rate']),
  checkoutConcurrency: Number(values['checkout-concurrency']),
  idleSeconds: Number(values['idle-seconds'] ?? (quick ? 5 : 30)),
  /** The stack has been ready and quiet this long before the idle window opens. */
  idleSettleSeconds: 5,
  /**
   * Between the load's end and a work count. PostgreSQL 15 backends flush their statistics at most
   * once a second (the last second's only after 10 s idle), so a count lags by up to ~1 s of work at
   * both edges of the window; waiting the same time at both edges makes the two lags cancel out.
   */
  workSettleSeconds: 1.5,
  portOffset: 21_000,
  /** Second instances listen here above their first. */
  secondInstanceOffset: 100,
};
const workloads = selectWorkloads(values.only);
const wants = (...names: Parameters<typeof workloads.has>[0][]) => names.some((name) => workloads.has(name));

const databaseUrl = process.env.BENCH_DATABASE_URL ?? localDatabaseUrl('mart_bench');
const databaseName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
/** The whole stack, whatever the workloads: the idle CPU, the start time and the RSS are the whole stack's. */
const services: ServiceName[] = SERVICES.map((service) => service.name);
const ports = portsAt(settings.portOffset);
const baselinePort = 8020 + settings.portOffset;
const TSX_LOADER = import.meta.resolve('tsx');
const profileDir = values.profile ? path.resolve(values.profile) : undefined;
/** A CPU profile of every service and B1, written when each exits (bench/cpu-profile.preload.mjs). */
const profileEnv: Record<string, string> = profileDir
  ? { NODE_OPTIONS: `--import ${path.join(REPO_ROOT, 'bench', 'cpu-profile.preload.mjs')}`, BENCH_CPU_PROFILE_DIR: profileDir }
  : {};
const logger = createLogger('bench', 'silent');
const log = (line: string) => console.log(`[bench] ${line}`);

interface LoadSpec {
  script: string;
  plan: unknown;
}

/** A load child: it warms up, says `warmed`, waits for `go`, says `measured`, prints its RawRun. */
interface LoadChild {
  child: ChildProcess;
  warmed: Promise<void>;
  measured: Promise<void>;
  report: Promise<RawRun>;
}

function spawnLoad({ script, plan }: LoadSpec): LoadChild {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, path.join(REPO_ROOT, 'bench', script)], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  let errors = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`bench/${script} exited ${code}: ${errors.slice(-2000)}`))));
  });
  const said = (type: ChildMessage['type']) => {
    const heard = new Promise<void>((resolve, reject) => {
      const listen = (message: ChildMessage) => {
        if (message.type !== type) return;
        child.off('message', listen);
        resolve();
      };
      child.on('message', listen);
      exited.then(() => reject(new Error(`bench/${script} ended before it said ${type}`)), reject);
    });
    heard.catch(() => undefined); // awaited later; this only keeps an early failure from being "unhandled"
    return heard;
  };
  const report = exited.then(() => {
    try {
      return JSON.parse(output) as RawRun;
    } catch (error) {
      throw new Error(`bench/${script} printed no JSON: ${output.slice(0, 500)} ${errors.slice(-1000)}`, { cause: error });
    }
  });
  report.catch(() => undefined);
  child.stdin!.end(JSON.stringify(plan));
  return { child, warmed: said('warmed'), measured: said('measured'), report };
}

const rows: Row[] = [];
/** Every Mart service instance, the broker and B1: whose CPU is whose. */
const instances: { name: string; pid: number; url: string }[] = [];
let brokerPid: number | null = null;
let baseline: ChildProcess | undefined;
const pidNames = new Map<number, string>();

function roots(loadPids: number[] = []): Root[] {
  return [
    ...instances.map(({ name, pid }) => ({ name, pid, role: 'stack' as const })),
    ...(brokerPid ? [{ name: 'kafka broker', pid: brokerPid, role: 'stack' as const }] : []),
    ...(baseline?.pid ? [{ name: 'B1 baseline app', pid: baseline.pid, role: 'baseline' as const }] : []),
    ...loadPids.map((pid) => ({ name: 'load generator', pid, role: 'load' as const })),
    { name: 'bench (this process)', pid: process.pid, role: 'bench' as const },
  ];
}

/** Other engineers' test runs, stacks and brokers, seen now: a row measured beside one is not a quiet figure. */
function testRunsNow(): string[] {
  const found = new Set<string>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid || Number(entry) === brokerPid) continue;
    const match = /tools\/(test|chaos|stack)\.ts|\bmocha\b|bench\/\w+\.bench\.ts|kafka\.Kafka/.exec(commandLineOf(Number(entry)));
    if (match) found.add(match[0]);
  }
  return [...found];
}

interface MeasureOptions {
  /** Count the work per operation over the window (commands, SQL, transactions, events, requests). */
  countWork?: boolean;
}

/**
 * Measures one row: its load processes warm up, then run their windows together between two CPU
 * snapshots (and two work counts, outside the window, if asked); the 1-minute load average is noted first.
 */
async function measure(row: Omit<Row, 'result'>, loads: LoadSpec[], options: MeasureOptions = {}): Promise<Row> {
  const loadAverage = Math.round(os.loadavg()[0]! * 100) / 100;
  log(`${row.key}: ${row.workload}, ${row.mode} (${row.load}) ...`);
  const children = loads.map(spawnLoad);
  try {
    await Promise.all(children.map((load) => load.warmed));
    const testsBefore = testRunsNow();
    let workBefore: WorkCounts | undefined;
    if (options.countWork) {
      await sleep(settings.workSettleSeconds * 1000);
      workBefore = await counter.count();
    }
    const start = await sampler.snapshot('start');
    for (const load of children) load.child.send({ type: 'go' } satisfies ParentMessage);
    await Promise.all(children.map((load) => load.measured));
    const end = await sampler.snapshot('end');
    const raw = await Promise.all(children.map((load) => load.report));
    const result = combine(raw);
    const window = cpuWindow(start, end, roots(children.map((load) => load.child.pid!)), CLOCK_TICKS);
    let work;
    if (workBefore) {
      await sleep(settings.workSettleSeconds * 1000);
      work = workPerOp(workBefore, await counter.count(), result.ok);
    }
    const testRuns = [...new Set([...testsBefore, ...testRunsNow()])];
    for (const example of new Set(raw.flatMap((run) => run.errorExamples ?? []))) log(`  error: ${example}`);
    const cpu = cpuPerOp(window, result.ok);
    log(
      `  p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.rps}/s, ${result.errors} errors; ` +
        `CPU ${cpu.msPerOp} ms/op (Mart's processes ${cpu.stackMsPerOp}, load generator ${cpu.loadMsPerOp} subtracted)`,
    );
    for (const [step, latency] of Object.entries(result.steps ?? {})) log(`    ${step}: p50 ${latency.p50} ms, p99 ${latency.p99} ms`);
    if (testRuns.length > 0) log(`  NOT QUIET: test runs seen during the row (${testRuns.join(', ')})`);
    const measured: Row = {
      ...row,
      result,
      loadAverage,
      cpu,
      cpuWindow: window,
      window: { startMs: start.atMs, endMs: end.atMs },
      ...(work ? { work } : {}),
      ...(testRuns.length > 0 ? { testRuns } : {}),
    };
    rows.push(measured);
    return measured;
  } catch (error) {
    for (const load of children) if (load.child.exitCode === null) load.child.kill('SIGTERM');
    throw error;
  }
}

const http = (base: string, paths: string[], shape: { rate?: number; connections: number }, extra: Partial<LoadPlan> = {}): LoadSpec => ({
  script: 'load.worker.ts',
  plan: {
    base,
    paths,
    connections: shape.connections,
    rate: shape.rate,
    seconds: settings.seconds,
    warmupSeconds: settings.warmupSeconds,
    ...extra,
  } satisfies LoadPlan,
});

const machine = () => ({
  cores: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  node: process.version,
  clockTicksPerSecond: CLOCK_TICKS,
});

const startedAt = Date.now();
const machineAtStart = machine();
log(`${machineAtStart.cores} cores, load average ${machineAtStart.loadAverage.join(' ')}; starting the stack twice (fresh, then warm) ...`);
if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
const benchStack = await startBenchStack({
  name: 'bench',
  databaseUrl,
  services,
  ports,
  kafkaPort: 9092 + settings.portOffset,
  keepWork: values['keep-logs'],
  warmRestart: true,
  env: {
    // The simulated payment provider and the local mail transport.
    STRIPE_SECRET_KEY: '',
    GMAIL_CLIENT_ID: '',
    // One account logs in from many connections at once; the limiter still runs, it cannot trip.
    LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
    LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
    // user-service creates the first admin at start and wants one named in production; nobody logs in as it.
    ADMIN_EMAIL: 'bench-admin@bench.mart',
    ADMIN_PASSWORD: randomUUID(),
    ...profileEnv,
  },
});
const { stack, starts } = benchStack;
instances.push(...stack.services.map(({ name, pid, url }) => ({ name, pid, url })));
brokerPid = stack.kafkaPid;
for (const { name, pid } of instances) pidNames.set(pid, name);
// The first start's processes profiled only their own start (and stop).
for (const [name, pid] of Object.entries(starts[0]!.pids)) if (starts.length > 1) pidNames.set(pid, `first-start-${name}`);
for (const [n, start] of starts.entries()) {
  const phases = Object.entries(start.phasesMs)
    .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)} s`)
    .join(', ');
  log(
    `${n === 0 ? 'first start' : 'warm start'}: ${start.services} services ready in ${(start.readyMs / 1000).toFixed(1)} s ` +
      `(broker storage ${start.brokerStorageFresh ? 'fresh' : 'kept'}; ${phases})`,
  );
}

const adminUrl = new URL(databaseUrl);
adminUrl.pathname = '/postgres';
const monitor = new pg.Client({ connectionString: adminUrl.toString() });
const benchDatabase = new pg.Client({ connectionString: databaseUrl });
// A broken monitoring connection must not end the run; its next query reports the failure.
monitor.on('error', () => undefined);
benchDatabase.on('error', () => undefined);
const admin = createKafka({ clientId: 'bench', brokers: stack.brokers.split(','), logger }).admin();
let sampler: CpuSampler;
let counter: WorkCounter;
let stackStopped = false;

try {
  await Promise.all([monitor.connect(), benchDatabase.connect(), admin.connect()]);
  const ownPids = await Promise.all(
    [monitor, benchDatabase].map(async (client) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid),
  );
  sampler = new CpuSampler(monitor, databaseName, ownPids);
  counter = new WorkCounter({ services: () => instances, admin, monitor, benchDatabase, database: databaseName });

  // Idle: nothing of the bench talks to the stack (its rpc client comes only for the fixtures).
  log(`idle: ${settings.idleSettleSeconds} s to settle, then ${settings.idleSeconds} s measured ...`);
  await sleep(settings.idleSettleSeconds * 1000);
  const idleLoadAverage = Math.round(os.loadavg()[0]! * 100) / 100;
  const idleWorkBefore = await counter.count();
  await sleep(1000);
  const idleStart = await sampler.snapshot('start');
  await sleep(settings.idleSeconds * 1000);
  const idleEnd = await sampler.snapshot('end');
  const idleWindow = cpuWindow(idleStart, idleEnd, roots(), CLOCK_TICKS);
  await sleep(settings.workSettleSeconds * 1000);
  // Per second of idle: the "operations" are the window's seconds.
  const idleWork = workPerOp(idleWorkBefore, await counter.count(), Math.round(idleWindow.seconds));
  const idleTests = testRunsNow();
  const idleStackPercent = percentOfCore(idleWindow.stackMs, idleWindow.seconds);
  log(
    `idle: Mart stack ${idleStackPercent} % of one core, machine ${percentOfCore(idleWindow.busyMs, idleWindow.seconds)} % ` +
      `(load average ${idleLoadAverage}${idleTests.length > 0 ? `; NOT QUIET: ${idleTests.join(', ')}` : ''})`,
  );
  const rssIdle = rss();

  const privateKey = fs.readFileSync(stack.keys.privateKeyFile, 'utf8');
  // The bench's own reply consumer would poll the broker during every window: it lives only while the fixtures are made.
  const { seed, productIds, checkout } = await withRpcClient(
    { brokers: stack.brokers, service: 'bench', timeoutMs: 60_000 },
    async (rpc) => {
      log(`seeding ${settings.products} products ...`);
      const seed = await seedCatalog(rpc, { products: settings.products, concurrency: 4, seed: 42, log: () => undefined });
      log(`seeded in ${(seed.ms / 1000).toFixed(1)} s`);
      // What autovacuum does after a load like this one, on any PostgreSQL that has it on (this
      // machine's has it off): fresh statistics, and with them new plans for db-service's prepared
      // statements, which it planned while every table was empty.
      await benchDatabase.query('ANALYZE');
      // W1 reads the catalog only, not the checkout's products made next.
      const productIds = (await benchDatabase.query<{ id: string }>('SELECT id FROM products WHERE active')).rows.map((row) => row.id);
      // W3's products have stock that never runs out: 50 of them, so no single stock row is hot.
      const checkout = wants('W3', 'scale')
        ? await seedCheckout(rpc, {
            label: 'Checkout',
            stocks: Array.from({ length: 50 }, () => 100_000_000),
            customers: Math.max(settings.checkoutConcurrency, settings.w3Customers),
            privateKey,
          })
        : undefined;
      return { seed, productIds, checkout };
    },
  );
  const productUrl = stack.urls['product-service'] ?? '';
  const w1Paths = productIds.map((id) => `/products/${id}`);
  const w2Paths = wants('W2') ? await searchPaths(productUrl, seed.categoryIds) : [];

  const baselineUrl = `http://127.0.0.1:${baselinePort}`;
  const rateShape = { rate: settings.rate, connections: settings.rateConnections };
  const w1Shape = { connections: settings.w1Connections };
  const maxShape = { connections: settings.connections };
  const rateLoad = `${settings.rate}/s, ${settings.rateConnections} conn`;
  const w1Load = `${settings.w1Connections} conn`;
  const maxLoad = `${settings.connections} conn`;
  const w1 = { name: 'W1 GET /products/:id', paths: w1Paths, label: 'B1 W1 Express+Prisma' };
  const w2 = { name: 'W2 GET /products?q&categoryId', paths: w2Paths, label: 'B1 W2 Express+Prisma' };

  if (wants('W1')) {
    await measure({ key: 'W1.rate', workload: w1.name, mode: 'rate', rate: settings.rate, load: rateLoad, baseline: 'B1/W1.rate' }, [
      http(productUrl, w1.paths, rateShape),
    ]);
    await measure(
      { key: ROWS.w1, workload: w1.name, mode: 'max', load: w1Load, baseline: 'B1.alone/W1.c10' },
      [http(productUrl, w1.paths, w1Shape)],
      {
        countWork: true,
      },
    );
    await measure({ key: ROWS.w1Max, workload: w1.name, mode: 'max', load: maxLoad, baseline: ROWS.b1Max }, [
      http(productUrl, w1.paths, maxShape),
    ]);
  }
  if (wants('W2')) {
    await measure({ key: 'W2.rate', workload: w2.name, mode: 'rate', rate: settings.rate, load: rateLoad, baseline: 'B1/W2.rate' }, [
      http(productUrl, w2.paths, rateShape),
    ]);
    await measure({ key: 'W2.max', workload: w2.name, mode: 'max', load: maxLoad, baseline: 'B1.alone/W2.max' }, [
      http(productUrl, w2.paths, maxShape),
    ]);
  }
  // B1 beside the running Mart stack; B1 runs only for its own rows, so its idle process is no part of Mart's.
  if (wants('W1', 'W2')) {
    await startBaseline();
    if (wants('W1')) {
      await measure({ key: 'B1/W1.rate', workload: w1.label, mode: 'rate', rate: settings.rate, load: rateLoad }, [
        http(baselineUrl, w1.paths, rateShape),
      ]);
      await measure({ key: 'B1/W1.c10', workload: w1.label, mode: 'max', load: w1Load }, [http(baselineUrl, w1.paths, w1Shape)]);
      await measure({ key: 'B1/W1.max', workload: w1.label, mode: 'max', load: maxLoad }, [http(baselineUrl, w1.paths, maxShape)]);
    }
    if (wants('W2')) {
      await measure({ key: 'B1/W2.rate', workload: w2.label, mode: 'rate', rate: settings.rate, load: rateLoad }, [
        http(baselineUrl, w2.paths, rateShape),
      ]);
      await measure({ key: 'B1/W2.max', workload: w2.label, mode: 'max', load: maxLoad }, [http(baselineUrl, w2.paths, maxShape)]);
    }
    await stopBaseline();
  }

  if (wants('B2')) {
    const roundTrip = (mode: 'rate' | 'max', concurrency: number): LoadSpec => ({
      script: 'kafka.roundtrip.ts',
      plan: {
        brokers: stack.brokers,
        mode,
        rate: settings.rate,
        concurrency,
        seconds: settings.seconds,
        warmupSeconds: settings.warmupSeconds,
      } satisfies RoundTripPlan,
    });
    await measure(
      {
        key: 'B2.rate',
        workload: 'B2 bare Kafka round trip',
        mode: 'rate',
        load: `${settings.rate}/s, ${settings.rateConnections} in flight`,
      },
      [roundTrip('rate', settings.rateConnections)],
    );
    // At W1.c10's concurrency: what the round trip alone costs where issue 11's CPU target is set.
    await measure({ key: 'B2.c10', workload: 'B2 bare Kafka round trip', mode: 'max', load: `${settings.w1Connections} in flight` }, [
      roundTrip('max', settings.w1Connections),
    ]);
    await measure({ key: 'B2.max', workload: 'B2 bare Kafka round trip', mode: 'max', load: `${settings.connections} in flight` }, [
      roundTrip('max', settings.connections),
    ]);
  }

  const checkouts = (orderUrl: string, mode: 'rate' | 'max', customersInLoop: number, share: number): LoadSpec => ({
    script: 'checkout.driver.ts',
    plan: {
      orderUrl,
      paymentUrl: stack.urls['payment-service']!,
      tokens: checkout!.customers.slice(0, Math.max(1, Math.round(customersInLoop / share))).map((customer) => customer.token),
      productIds: checkout!.products.map((product) => product.id),
      mode,
      rate: settings.checkoutRate / share,
      concurrency: Math.max(1, Math.round(customersInLoop / share)),
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds,
      pollMs: 20,
      maxPollMs: 200,
      timeoutMs: 30_000,
    } satisfies CheckoutPlan,
  });
  const checkoutRateLoad = `${settings.checkoutRate}/s, ≤ ${settings.checkoutConcurrency} in flight`;
  const checkoutMaxLoad = `${settings.checkoutConcurrency} customers`;
  const orderUrl = stack.urls['order-service']!;
  if (wants('W3')) {
    const name = 'W3 checkout to PAID';
    await measure({ key: 'W3.rate', workload: name, mode: 'rate', rate: settings.checkoutRate, load: checkoutRateLoad }, [
      checkouts(orderUrl, 'rate', settings.checkoutConcurrency, 1),
    ]);
    await measure(
      { key: ROWS.w3, workload: name, mode: 'max', load: `${settings.w3Customers} customers` },
      [checkouts(orderUrl, 'max', settings.w3Customers, 1)],
      {
        countWork: true,
      },
    );
    await measure({ key: 'W3.max', workload: name, mode: 'max', load: checkoutMaxLoad }, [
      checkouts(orderUrl, 'max', settings.checkoutConcurrency, 1),
    ]);
  }

  if (wants('W4')) {
    const email = 'bench-login@bench.mart';
    const password = 'correct horse battery staple';
    const registered = await fetch(`${stack.urls['customer-service']}/customers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, name: 'Bench login' }),
    });
    if (registered.status !== 201)
      throw new Error(`could not register the login customer: ${registered.status} ${await registered.text()}`);
    const login = { method: 'POST' as const, body: JSON.stringify({ email, password }), headers: { 'content-type': 'application/json' } };
    const authUrl = stack.urls['auth-service']!;
    await measure(
      { key: 'W4.rate', workload: 'W4 POST /auth/login', mode: 'rate', rate: settings.loginRate, load: `${settings.loginRate}/s` },
      [http(authUrl, ['/auth/login'], { rate: settings.loginRate, connections: 2 }, login)],
    );
    await measure({ key: 'W4.max', workload: 'W4 POST /auth/login', mode: 'max', load: `${settings.loginConnections} conn` }, [
      http(authUrl, ['/auth/login'], { connections: settings.loginConnections }, login),
    ]);
  }

  const rssOneInstance = rss();

  if (wants('scale')) {
    log('starting a second db-service, product-service and order-service ...');
    const second = (name: ServiceName) => ports[name] + settings.secondInstanceOffset;
    for (const name of ['db-service', 'product-service', 'order-service'] as const) {
      const instance = await stack.addInstance(name, second(name));
      instances.push({ name: `${name} #2`, pid: instance.pid, url: instance.url });
      pidNames.set(instance.pid, `${name}-2`);
    }
    // The new db-service joins the command consumer group: let the partitions settle before measuring.
    await sleep(3000);
    const productUrls = [productUrl, `http://127.0.0.1:${second('product-service')}`];
    const orderUrls = [orderUrl, `http://127.0.0.1:${second('order-service')}`];
    const half = (shape: { rate?: number; connections: number }) => ({
      rate: shape.rate === undefined ? undefined : shape.rate / 2,
      connections: Math.max(1, Math.round(shape.connections / 2)),
    });
    await measure(
      { key: 'W1x2.rate', workload: 'W1 on 2 instances', mode: 'rate', rate: settings.rate, load: rateLoad, baseline: 'W1.rate' },
      productUrls.map((url) => http(url, w1Paths, half(rateShape))),
    );
    await measure(
      { key: 'W1x2.max', workload: 'W1 on 2 instances', mode: 'max', load: maxLoad, baseline: 'W1.max' },
      productUrls.map((url) => http(url, w1Paths, half(maxShape))),
    );
    await measure(
      {
        key: 'W3x2.rate',
        workload: 'W3 on 2 instances',
        mode: 'rate',
        rate: settings.checkoutRate,
        load: checkoutRateLoad,
        baseline: 'W3.rate',
      },
      orderUrls.map((url) => checkouts(url, 'rate', settings.checkoutConcurrency, 2)),
    );
    await measure(
      { key: 'W3x2.max', workload: 'W3 on 2 instances', mode: 'max', load: checkoutMaxLoad, baseline: 'W3.max' },
      orderUrls.map((url) => checkouts(url, 'max', settings.checkoutConcurrency, 2)),
    );
  }

  const rssAtEnd = rss();

  // B1 once more with every Mart process gone, so nothing of Mart's idle load slows the baseline.
  log('stopping the Mart stack for B1 alone ...');
  await admin.disconnect();
  await benchStack.stop();
  stackStopped = true;
  brokerPid = null;
  instances.length = 0;
  if (wants('W1', 'W2')) {
    await startBaseline();
    const alone = ', Mart stopped';
    if (wants('W1')) {
      await measure({ key: 'B1.alone/W1.c10', workload: w1.label + alone, mode: 'max', load: w1Load }, [
        http(baselineUrl, w1.paths, w1Shape),
      ]);
      await measure({ key: ROWS.b1Max, workload: w1.label + alone, mode: 'max', load: maxLoad }, [http(baselineUrl, w1.paths, maxShape)]);
    }
    if (wants('W2'))
      await measure({ key: 'B1.alone/W2.max', workload: w2.label + alone, mode: 'max', load: maxLoad }, [
        http(baselineUrl, w2.paths, maxShape),
      ]);
    await stopBaseline();
  }

  const warmStart = starts.at(-1)!;
  const figures: StackFigures = {
    idleStackPercent,
    warmStartMs: warmStart.brokerStorageFresh ? undefined : warmStart.readyMs,
    statelessRssMiB: Object.fromEntries(
      Object.entries(rssIdle).filter(([name]) => SERVICES.some((service) => service.name === name && name !== 'db-service')),
    ),
  };
  const checks = checkTargets(rows, figures);
  const byKey = new Map(rows.map((row) => [row.key, row]));
  const w1Rate = byKey.get('W1.rate');
  const b2Rate = byKey.get('B2.rate');
  const w1OverKafka = w1Rate && b2Rate ? ratio(w1Rate.result, b2Rate.result) : undefined;
  const machineAtEnd = machine();

  console.log(
    `\nMart benchmark: ${settings.products} products, ${settings.seconds} s windows after ${settings.warmupSeconds} s warm-up, ` +
      `${machineAtEnd.cores} cores, load average ${machineAtStart.loadAverage[0]} at start, ${machineAtEnd.loadAverage[0]} at end\n`,
  );
  for (const [n, start] of starts.entries())
    console.log(
      `${n === 0 ? 'First start' : 'Warm start '}: ${start.services} services ready in ${(start.readyMs / 1000).toFixed(1)} s, broker storage ` +
        `${start.brokerStorageFresh ? 'fresh' : 'kept'} (before the broker ${start.phasesMs.beforeBroker} ms, broker ${start.phasesMs.broker} ms, ` +
        `db-service ${start.phasesMs.dbService} ms, the other services ${start.phasesMs.otherServices} ms)`,
    );
  console.log(
    `\nIdle, ${idleWindow.seconds.toFixed(1)} s after ${settings.idleSettleSeconds} s quiet, load average ${idleLoadAverage}: ` +
      `Mart stack ${idleStackPercent} % of one core${idleTests.length > 0 ? ` (NOT QUIET: ${idleTests.join(', ')})` : ''}`,
  );
  console.log(formatCpuBreakdown(idleWindow));
  console.log(formatWork('Idle work', idleWork, 'second'));
  console.log(`\n${formatTable(rows, checks)}`);
  const w3 = byKey.get(ROWS.w3);
  if (w3)
    console.log(
      `\nW3 place → PAID (${w3.load}): p50 ${w3.result.latency.p50.toFixed(1)} ms, p90 ${w3.result.latency.p90.toFixed(1)} ms, ` +
        `p99 ${w3.result.latency.p99.toFixed(1)} ms; ` +
        Object.entries(w3.result.steps ?? {})
          .map(([step, latency]) => `${step} p50 ${latency.p50.toFixed(1)} ms`)
          .join(', '),
    );
  for (const key of [ROWS.w3, ROWS.w1]) {
    const row = byKey.get(key);
    if (row?.work) console.log(`\n${formatWork(`${row.key} ${row.workload} (${row.load})`, row.work)}`);
  }
  for (const key of [ROWS.w1, ROWS.w3, 'B1.alone/W1.c10']) {
    const row = byKey.get(key);
    if (row?.cpuWindow)
      console.log(
        `\nCPU of ${row.key} ${row.workload} (${row.load}), ${row.result.ok} operations:\n${formatCpuBreakdown(row.cpuWindow, row.result.ok)}`,
      );
  }
  const b1Pairs = ['W1.c10', 'W1.max', 'W2.max']
    .map((key) => [byKey.get(`B1/${key}`), byKey.get(`B1.alone/${key}`)] as const)
    .filter(([running, alone]) => running && alone);
  if (b1Pairs.length > 0) {
    console.log('\nB1 with the Mart stack running vs stopped:');
    for (const [running, alone] of b1Pairs)
      console.log(
        `  ${alone!.key.replace('B1.alone/', '')}: ${running!.result.rps} vs ${alone!.result.rps} req/s, ` +
          `CPU ${running!.cpu?.msPerOp} vs ${alone!.cpu?.msPerOp} ms/op`,
      );
  }
  if (w1OverKafka)
    console.log(
      `\nW1 / B2 at ${settings.rate}/s: a W1 request takes p50 ×${w1OverKafka.p50}, p99 ×${w1OverKafka.p99} the bare Kafka round trip`,
    );
  console.log(`\n${formatTargets(checks)}`);
  console.log('\nRSS MiB when idle:', rssIdle);
  console.log('RSS MiB at the end:', rssAtEnd);

  saveResults('bench', {
    settings,
    workloads: [...workloads],
    machine: { atStart: machineAtStart, atEnd: machineAtEnd },
    starts,
    stackReadyMs: Math.round(warmStart.readyMs),
    idle: { window: idleWindow, stackPercent: idleStackPercent, loadAverage: idleLoadAverage, work: idleWork, testRuns: idleTests },
    seed: {
      products: settings.products,
      created: seed.created,
      ms: Math.round(seed.ms),
      activeProducts: productIds.length,
      searches: w2Paths,
    },
    rows,
    ratios: { ...ratios(rows), ...(w1OverKafka ? { 'W1.rate/B2.rate': { baseline: 'B2.rate', ...w1OverKafka } } : {}) },
    targets: checks,
    rssMiB: { idle: rssIdle, oneInstance: rssOneInstance, atEnd: rssAtEnd },
    ...(profileDir ? { profiles: { dir: profileDir, pids: Object.fromEntries(pidNames) } } : {}),
    totalSeconds: Math.round((Date.now() - startedAt) / 1000),
  });
  if (values.check && checks.some((check) => !check.pass)) process.exitCode = 1;
} finally {
  await stopBaseline();
  if (!stackStopped) await admin.disconnect().catch(() => undefined);
  await benchStack.stop();
  await Promise.all([monitor.end().catch(() => undefined), benchDatabase.end().catch(() => undefined)]);
  if (profileDir) nameProfiles(profileDir, pidNames);
}

/** Resident memory of every service instance, the broker and the baseline app, in MiB. */
function rss(): Record<string, number> {
  return rssMiB(Object.fromEntries(roots().flatMap(({ name, pid, role }) => (role === 'bench' ? [] : [[name, pid]]))));
}

/** `<pid>.cpuprofile` → `<service>.<pid>.cpuprofile`, for the processes of this run we know. */
function nameProfiles(dir: string, names: Map<number, string>): void {
  for (const file of fs.readdirSync(dir)) {
    const pid = /^(\d+)\.cpuprofile$/.exec(file)?.[1];
    const name = pid ? names.get(Number(pid)) : undefined;
    if (name) fs.renameSync(path.join(dir, file), path.join(dir, `${name}.${pid}.cpuprofile`));
  }
  log(`profiles in ${dir}`);
}

/** W2's requests: a word of the catalog within a category subtree, only pairs that find something. */
async function searchPaths(productUrl: string, categoryIds: Map<string, string>): Promise<string[]> {
  const pairs = [
    ['headlamp', 'Outdoor & Sports'],
    ['tent', 'Camping'],
    ['laptop', 'Electronics'],
    ['skillet', 'Home & Kitchen'],
    ['backpack', 'Fashion'],
    ['titanium', 'Outdoor & Sports'],
    ['wireless', 'Electronics'],
    ['walnut', 'Furniture'],
    ['puzzle', 'Toys & Games'],
    ['merino', 'Outerwear'],
  ];
  const paths: string[] = [];
  for (const [q, category] of pairs) {
    const categoryId = categoryIds.get(category!);
    if (!categoryId) throw new Error(`the seed has no category "${category}"`);
    const found = `/products?q=${encodeURIComponent(q!)}&categoryId=${categoryId}`;
    const page = (await (await fetch(`${productUrl}${found}`)).json()) as { total: number };
    if (page.total > 0) paths.push(found);
  }
  if (paths.length === 0) throw new Error('no W2 search finds anything in the seeded catalog');
  return paths;
}

/** SIGTERM to B1, and wait until it is gone (it writes its profile on the way out). */
async function stopBaseline(): Promise<void> {
  const child = baseline;
  baseline = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** B1 in a child process of its own, on the same database; resolves once it answers. */
async function startBaseline(): Promise<void> {
  baseline = await launchBaseline();
  pidNames.set(baseline.pid!, 'B1-baseline');
}

async function launchBaseline(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, path.join(REPO_ROOT, 'bench', 'baseline.app.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(baselinePort),
      DB_POOL_SIZE: '10',
      NODE_ENV: 'production',
      ...profileEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the baseline app exited (${child.exitCode})`);
    if (await isReady(`http://127.0.0.1:${baselinePort}`)) return child;
    if (Date.now() > deadline) throw new Error('the baseline app did not answer within 30 s');
    await sleep(200);
  }
}
