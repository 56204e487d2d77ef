/**
 * `npm run bench`: issue 7's benchmark. Starts its own stack (broker, database mart_bench
 * recreated, services at the dev ports + 21000), seeds the catalog, then measures each workload
 * at a fixed moderate rate (latency) and at saturation (throughput), next to its baselines:
 *
 *   W1  GET /products/:id, random ids of the seeded catalog        B1  the same W1/W2 requests
 *   W2  GET /products?q=<word>&categoryId=<id>, random pairs            served by a minimal Express
 *   W3  checkout: POST /orders, POST /payments (pm_card_visa),          app calling db-service's
 *       GET /orders/:id until PAID                                      product handlers with Prisma
 *   W4  POST /auth/login of a customer                              B2  the bare Kafka round trip
 *
 * then W1 and W3 again with two instances each of product-, order- and db-service (scale-out).
 * Every load generator is a child process: autocannon (bench/load.worker.ts) for W1, W2, W4 and
 * B1, bench/checkout.driver.ts for W3, bench/kafka.roundtrip.ts for B2. Scale-out runs one load
 * process per HTTP instance, each with half the rate or half the connections; throughputs add
 * up and latencies are pooled (each instance's figures are in the JSON as `parts`).
 *
 *   npm run bench -- [--quick] [--only W1,W2,W3,W4,B2,scale] [--products 10000] [--seconds 15]
 *                    [--rate 200] [--connections 32] [--checkout-rate 20] [--checkout-concurrency 32]
 *                    [--check] [--keep-logs]
 *
 * --quick is a smoke run (2000 products, 3 s windows); --check exits 1 when a target is missed;
 * --keep-logs leaves the services' logs in the temporary directory it names at the end.
 * BENCH_DATABASE_URL picks another database (it is dropped and recreated), e.g. when another
 * bench on this machine uses mart_bench at the same time.
 * Prints one table (workload, mode, p50/p90/p99, req/s, errors, baseline, ratio, target, load) and
 * writes bench/results/bench-<time>.json with every figure, the machine and each process's RSS.
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
import { RpcClient, createKafka, createLogger } from '@mart/common';
import { mintToken } from '@mart/common/testing';
import { residentKib } from '../tools/process.ts';
import { REPO_ROOT, serviceDefinition, type ServiceName } from '../tools/services.ts';
import { seedCatalog } from '../tools/seed.ts';
import { saveResults, startBenchStack } from './bench.stack.ts';
import type { CheckoutPlan } from './checkout.driver.ts';
import type { RoundTripPlan } from './kafka.roundtrip.ts';
import type { LoadPlan } from './load.worker.ts';
import { checkTargets, combine, formatTable, ratio, ratios, selectWorkloads, type Measured, type RawRun, type Row } from './report.ts';

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
  connections: Number(values.connections),
  /** bcrypt makes a login cost ~65 ms of CPU: a moderate rate is a few per second. */
  loginRate: 10,
  loginConnections: 8,
  checkoutRate: Number(values['checkout-rate']),
  checkoutConcurrency: Number(values['checkout-concurrency']),
  portOffset: 21_000,
  /** Second instances listen here above their first. */
  secondInstanceOffset: 100,
};
const workloads = selectWorkloads(values.only);
const wants = (...names: Parameters<typeof workloads.has>[0][]) => names.some((name) => workloads.has(name));

const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mart_bench';
/** The services the chosen workloads go through (brand- and category-service serve none of them). */
const services: ServiceName[] = [
  'db-service',
  ...(wants('W1', 'W2', 'scale') ? (['product-service'] as const) : []),
  ...(wants('W3', 'scale') ? (['inventory-service', 'order-service', 'payment-service', 'notification-service'] as const) : []),
  ...(wants('W4') ? (['auth-service', 'customer-service'] as const) : []),
];
const portOf = (name: ServiceName) => serviceDefinition(name).port + settings.portOffset;
const baselinePort = 8020 + settings.portOffset;
const TSX_LOADER = import.meta.resolve('tsx');
const logger = createLogger('bench', 'silent');
const log = (line: string) => console.log(`[bench] ${line}`);

/** Runs one of the bench's child scripts with its plan on stdin; resolves with the JSON it prints. */
function runChild<T>(script: string, plan: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, path.join(REPO_ROOT, 'bench', script)], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`bench/${script} exited ${code}: ${errors.slice(-2000)}`));
      try {
        resolve(JSON.parse(output) as T);
      } catch (error) {
        reject(new Error(`bench/${script} printed no JSON: ${output.slice(0, 500)} ${errors.slice(-1000)}`, { cause: error }));
      }
    });
    child.stdin.end(JSON.stringify(plan));
  });
}

const rows: Row[] = [];

/** Measures one row: its load processes run side by side; the 1-minute load average is noted first. */
async function measure(row: Omit<Row, 'result'>, runs: () => Promise<RawRun>[]): Promise<Measured> {
  const loadAverage = Math.round(os.loadavg()[0]! * 100) / 100;
  log(`${row.key}: ${row.workload}, ${row.mode} (${row.load}) ...`);
  const raw = await Promise.all(runs());
  const result = combine(raw);
  for (const example of new Set(raw.flatMap((run) => run.errorExamples ?? []))) log(`  error: ${example}`);
  log(`  p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.rps}/s, ${result.errors} errors`);
  for (const [step, latency] of Object.entries(result.steps ?? {})) log(`    ${step}: p50 ${latency.p50} ms, p99 ${latency.p99} ms`);
  rows.push({ ...row, result, loadAverage });
  return result;
}

const http = (base: string, paths: string[], shape: { rate?: number; connections: number }, extra: Partial<LoadPlan> = {}) =>
  runChild<RawRun>('load.worker.ts', {
    base,
    paths,
    connections: shape.connections,
    rate: shape.rate,
    seconds: settings.seconds,
    warmupSeconds: settings.warmupSeconds,
    ...extra,
  } satisfies LoadPlan);

const machine = () => ({
  cores: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  node: process.version,
});

const startedAt = Date.now();
const machineAtStart = machine();
log(`${machineAtStart.cores} cores, load average ${machineAtStart.loadAverage.join(' ')}; starting the stack ...`);
const { stack, readyMs, stop } = await startBenchStack({
  name: 'bench',
  databaseUrl,
  services,
  ports: Object.fromEntries(services.map((name) => [name, portOf(name)])),
  kafkaPort: 9092 + settings.portOffset,
  keepWork: values['keep-logs'],
  env: {
    // The simulated payment provider and the local mail transport.
    STRIPE_SECRET_KEY: '',
    GMAIL_CLIENT_ID: '',
    // One account logs in from many connections at once; the limiter still runs, it cannot trip.
    LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
    LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
  },
});
const extraProcesses: { name: string; pid: number }[] = [];
let baseline: ChildProcess | undefined;
const rpc = new RpcClient({
  kafka: createKafka({ clientId: 'bench', brokers: stack.brokers.split(','), logger }),
  service: 'bench',
  instanceId: randomUUID().slice(0, 8),
  timeoutMs: 60_000,
  logger,
});

try {
  await rpc.start();
  log(`stack ready in ${(readyMs / 1000).toFixed(1)} s; seeding ${settings.products} products ...`);
  const seed = await seedCatalog(rpc, { products: settings.products, concurrency: 4, seed: 42, log: () => undefined });
  log(`seeded in ${(seed.ms / 1000).toFixed(1)} s`);
  const database = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const productIds = (await database.query<{ id: string }>('SELECT id FROM products WHERE active')).rows.map((row) => row.id);
  await database.end();
  const productUrl = stack.urls['product-service'] ?? '';
  const w1Paths = productIds.map((id) => `/products/${id}`);
  const w2Paths = wants('W2') ? await searchPaths(productUrl, seed.categoryIds) : [];
  const privateKey = fs.readFileSync(stack.keys.privateKeyFile, 'utf8');

  if (wants('W1', 'W2')) baseline = await startBaseline();
  const baselineUrl = `http://127.0.0.1:${baselinePort}`;
  const rateShape = { rate: settings.rate, connections: settings.rateConnections };
  const maxShape = { connections: settings.connections };
  const rateLoad = `${settings.rate}/s, ${settings.rateConnections} conn`;
  const maxLoad = `${settings.connections} conn`;

  for (const [workload, name, paths] of [
    ['W1', 'W1 GET /products/:id', w1Paths],
    ['W2', 'W2 GET /products?q&categoryId', w2Paths],
  ] as const) {
    if (!wants(workload)) continue;
    const label = `B1 ${workload} Express+Prisma`;
    await measure(
      { key: `${workload}.rate`, workload: name, mode: 'rate', rate: settings.rate, load: rateLoad, baseline: `B1/${workload}.rate` },
      () => [http(productUrl, paths, rateShape)],
    );
    await measure({ key: `B1/${workload}.rate`, workload: label, mode: 'rate', rate: settings.rate, load: rateLoad }, () => [
      http(baselineUrl, paths, rateShape),
    ]);
    await measure({ key: `${workload}.max`, workload: name, mode: 'max', load: maxLoad, baseline: `B1/${workload}.max` }, () => [
      http(productUrl, paths, maxShape),
    ]);
    await measure({ key: `B1/${workload}.max`, workload: label, mode: 'max', load: maxLoad }, () => [http(baselineUrl, paths, maxShape)]);
  }
  if (baseline) extraProcesses.push({ name: 'B1 baseline app', pid: baseline.pid! });

  if (wants('B2')) {
    const roundTrip = (mode: 'rate' | 'max', concurrency: number) =>
      runChild<RawRun>('kafka.roundtrip.ts', {
        brokers: stack.brokers,
        mode,
        rate: settings.rate,
        concurrency,
        seconds: settings.seconds,
        warmupSeconds: settings.warmupSeconds,
      } satisfies RoundTripPlan);
    await measure(
      {
        key: 'B2.rate',
        workload: 'B2 bare Kafka round trip',
        mode: 'rate',
        load: `${settings.rate}/s, ${settings.rateConnections} in flight`,
      },
      () => [roundTrip('rate', settings.rateConnections)],
    );
    await measure({ key: 'B2.max', workload: 'B2 bare Kafka round trip', mode: 'max', load: `${settings.connections} in flight` }, () => [
      roundTrip('max', settings.connections),
    ]);
  }

  const checkoutSetup = wants('W3', 'scale') ? await checkoutFixture(rpc, privateKey, settings.checkoutConcurrency) : undefined;
  const checkouts = (orderUrl: string, mode: 'rate' | 'max', share: number) =>
    runChild<RawRun>('checkout.driver.ts', {
      orderUrl,
      paymentUrl: stack.urls['payment-service']!,
      tokens: checkoutSetup!.tokens,
      productIds: checkoutSetup!.productIds,
      mode,
      rate: settings.checkoutRate / share,
      concurrency: Math.max(1, Math.round(settings.checkoutConcurrency / share)),
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds,
      pollMs: 20,
      maxPollMs: 200,
      timeoutMs: 30_000,
    } satisfies CheckoutPlan);
  const checkoutRateLoad = `${settings.checkoutRate}/s, ≤ ${settings.checkoutConcurrency} in flight`;
  const checkoutMaxLoad = `${settings.checkoutConcurrency} customers`;
  const orderUrl = stack.urls['order-service']!;
  if (wants('W3')) {
    await measure(
      { key: 'W3.rate', workload: 'W3 checkout to PAID', mode: 'rate', rate: settings.checkoutRate, load: checkoutRateLoad },
      () => [checkouts(orderUrl, 'rate', 1)],
    );
    await measure({ key: 'W3.max', workload: 'W3 checkout to PAID', mode: 'max', load: checkoutMaxLoad }, () => [
      checkouts(orderUrl, 'max', 1),
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
      () => [http(authUrl, ['/auth/login'], { rate: settings.loginRate, connections: 2 }, login)],
    );
    await measure({ key: 'W4.max', workload: 'W4 POST /auth/login', mode: 'max', load: `${settings.loginConnections} conn` }, () => [
      http(authUrl, ['/auth/login'], { connections: settings.loginConnections }, login),
    ]);
  }

  const rssOneInstance = rss();

  if (wants('scale')) {
    log('starting a second db-service, product-service and order-service ...');
    const second = (name: ServiceName) => portOf(name) + settings.secondInstanceOffset;
    for (const name of ['db-service', 'product-service', 'order-service'] as const) {
      const instance = await stack.addInstance(name, second(name));
      extraProcesses.push({ name: `${name} #2`, pid: instance.pid });
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
      () => productUrls.map((url) => http(url, w1Paths, half(rateShape))),
    );
    await measure({ key: 'W1x2.max', workload: 'W1 on 2 instances', mode: 'max', load: maxLoad, baseline: 'W1.max' }, () =>
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
      () => orderUrls.map((url) => checkouts(url, 'rate', 2)),
    );
    await measure({ key: 'W3x2.max', workload: 'W3 on 2 instances', mode: 'max', load: checkoutMaxLoad, baseline: 'W3.max' }, () =>
      orderUrls.map((url) => checkouts(url, 'max', 2)),
    );
  }

  const rssAtEnd = rss();
  const checks = checkTargets(rows);
  const byKey = new Map(rows.map((row) => [row.key, row.result]));
  const w1 = byKey.get('W1.rate');
  const b2 = byKey.get('B2.rate');
  const w1OverKafka = w1 && b2 ? ratio(w1, b2) : undefined;
  const machineAtEnd = machine();

  console.log(
    `\nMart benchmark: ${settings.products} products, ${settings.seconds} s windows after ${settings.warmupSeconds} s warm-up, ` +
      `${machineAtEnd.cores} cores, load average ${machineAtStart.loadAverage[0]} at start, ${machineAtEnd.loadAverage[0]} at end\n`,
  );
  console.log(formatTable(rows, checks));
  if (w1OverKafka)
    console.log(
      `\nW1 / B2 at ${settings.rate}/s: a W1 request takes p50 ×${w1OverKafka.p50}, p99 ×${w1OverKafka.p99} the bare Kafka round trip`,
    );
  console.log(`\nTargets: ${checks.filter((check) => check.pass).length} PASS, ${checks.filter((check) => !check.pass).length} MISS`);
  for (const check of checks) console.log(`  ${check.pass ? 'PASS' : 'MISS'}  ${check.row}  ${check.name}  (measured ${check.value})`);
  console.log('\nRSS MiB at the end:', rssAtEnd);

  saveResults('bench', {
    settings,
    workloads: [...workloads],
    machine: { atStart: machineAtStart, atEnd: machineAtEnd },
    stackReadyMs: Math.round(readyMs),
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
    rssMiB: { oneInstance: rssOneInstance, atEnd: rssAtEnd },
    totalSeconds: Math.round((Date.now() - startedAt) / 1000),
  });
  if (values.check && checks.some((check) => !check.pass)) process.exitCode = 1;
} finally {
  if (baseline && baseline.exitCode === null) baseline.kill('SIGTERM');
  await rpc.stop();
  await stop();
}

/** Resident memory of every service instance, the broker and the baseline app, in MiB. */
function rss(): Record<string, number> {
  const processes = [
    ...stack.services.map((service) => ({ name: service.name, pid: service.pid })),
    ...(stack.kafkaPid ? [{ name: 'kafka broker', pid: stack.kafkaPid }] : []),
    ...extraProcesses,
  ];
  return Object.fromEntries(processes.map(({ name, pid }) => [name, Math.round((residentKib(pid) ?? 0) / 1024)]));
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

/** B1 in a child process of its own, on the same database; resolves once it answers. */
async function startBaseline(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, path.join(REPO_ROOT, 'bench', 'baseline.app.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(baselinePort), DB_POOL_SIZE: '10', NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the baseline app exited (${child.exitCode})`);
    const ready = await fetch(`http://127.0.0.1:${baselinePort}/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return child;
    if (Date.now() > deadline) throw new Error('the baseline app did not answer within 30 s');
    await sleep(200);
  }
}

/** W3's fixture: products with stock that never runs out, and customers with access tokens. */
async function checkoutFixture(
  client: RpcClient,
  privateKey: string,
  customers: number,
): Promise<{ productIds: string[]; tokens: string[] }> {
  const brand = await client.call('brand.create', { id: randomUUID(), name: 'Checkout bench brand' });
  const category = await client.call('category.create', { id: randomUUID(), name: 'Checkout bench category' });
  const productIds = await Promise.all(
    Array.from({ length: 50 }, async (_, n) => {
      const product = await client.call('product.create', {
        id: randomUUID(),
        sku: `CHECKOUT-${n}`,
        name: `Checkout bench item ${n}`,
        description: '',
        priceCents: 1999,
        currency: 'USD',
        brandId: brand.id,
        categoryId: category.id,
        active: true,
      });
      await client.call('inventory.set', { productId: product.id, onHand: 100_000_000, actorId: '' });
      return product.id;
    }),
  );
  const tokens = await Promise.all(
    Array.from({ length: customers }, async (_, n) => {
      const id = randomUUID();
      const email = `checkout-${n}@bench.mart`;
      // customer.register wants a bcrypt hash; nobody logs in with this one.
      await client.call('customer.register', { id, email, name: `Bench ${n}`, passwordHash: `$2b$10$${'a'.repeat(53)}` });
      return mintToken(privateKey, { kind: 'customer', sub: id, email });
    }),
  );
  return { productIds, tokens };
}
