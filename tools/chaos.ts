/**
 * The fault suite (issue 7): while customers check out (place an order, pay with pm_card_visa,
 * wait until PAID), it SIGKILLs db-service and restarts it, restarts the Kafka broker, and stops
 * PostgreSQL for a few seconds. Then it lets the system settle and checks from the database that
 * nothing was lost, doubled or oversold, and that every HTTP request got a timely answer.
 *
 *   npm run test:chaos -- [--customers 16] [--phase-seconds 20] [--port-offset 12000]
 *                        [--postgres-port 25432] [--services all|checkout]
 *   npm run test:chaos -- --bounded     the short form the chaos suite of `npm test` runs
 *
 * Everything runs on ports of its own, beside dev, test and bench stacks: a private PostgreSQL
 * cluster (port 25432, in a temp dir), a broker (21092) and the services at the dev ports +
 * 12000, all below Linux's ephemeral range (32768-60999), where an outgoing connection could hold
 * one. All of it is stopped and removed at the end, whatever happens. Prints the counts as a
 * table, writes bench/results/chaos-<time>.json, and exits non-zero on any violation.
 */
import { randomUUID } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import pg from 'pg';

import { seedCheckout, type SeededCustomer, type SeededProduct } from './checkout.seed.ts';
import { startKafka, type KafkaBroker } from './kafka.ts';
import { once, seconds } from './process.ts';
import { saveResults } from './results.ts';
import { withRpcClient } from './rpc.ts';
import { REPO_ROOT, portsAt, servicesWithSource, type ServiceName } from './services.ts';
import { ensureDatabase, isReady, startStack, type Stack } from './stack.ts';

export interface ChaosOptions {
  /** Concurrent customers, each looping place → pay → wait until PAID. */
  customers: number;
  /** Load before the first fault and after each one. */
  phaseMs: number;
  /** How long the broker and PostgreSQL stay down. */
  downMs: number;
  /** Services listen at their dev port + this; the broker at 9092 + this (and its controller one above). */
  portOffset: number;
  postgresPort: number;
  /** Each service's deadline for one db-service round trip (RPC_TIMEOUT_MS). */
  rpcTimeoutMs: number;
  /** Every built service, or only those the checkout needs (faster on a small machine). */
  services: 'all' | 'checkout';
  log?: (line: string) => void;
}

export const fullRun: ChaosOptions = {
  customers: 16,
  phaseMs: 20_000,
  downMs: 5_000,
  // 20001-20011 and 21092/21093: clear of the test stack (+10000) and the bench (+21000).
  portOffset: 12_000,
  postgresPort: 25_432,
  rpcTimeoutMs: 5_000,
  services: 'all',
};

/** What CI runs inside `npm test`: the same faults and checks, shorter and with fewer services. */
export const boundedRun: ChaosOptions = { ...fullRun, customers: 8, phaseMs: 6_000, downMs: 3_000, services: 'checkout' };

const CHECKOUT_SERVICES: ServiceName[] = ['db-service', 'inventory-service', 'order-service', 'payment-service', 'notification-service'];
const READY_WITHIN_MS = 30_000;
const SETTLE_TIMEOUT_MS = 90_000;

/** HTTP answers a client may get while faults happen; anything else is a violation. */
const EXPECTED_STATUS: Record<RequestKind, number[]> = {
  'place order': [201, 409, 503, 504],
  // 409: paid already, or an earlier attempt whose answer was lost is still processing.
  pay: [201, 409, 503, 504],
  'get order': [200, 503, 504],
};
/** db-service round trips per request: its deadline is that many RPC timeouts. */
const ROUND_TRIPS: Record<RequestKind, number> = { 'place order': 1, pay: 2, 'get order': 1 };

type RequestKind = 'place order' | 'pay' | 'get order';

export interface FaultResult {
  fault: string;
  /** From the start of the fault to its end (the process or server back up). */
  downMs: number;
  /** From the end of the fault until every service's /ready answered 200; null if never. */
  readyAfterMs: number | null;
  /** Per service, when its /ready first answered 200 after the fault ended. */
  readyAt: Record<string, number | null>;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, 'log'>;
  services: ServiceName[];
  faults: FaultResult[];
  /** Per request kind, how many got each answer ('reset', 'hang' for no answer). */
  http: Record<string, Record<string, number>>;
  /** Slowest answer relative to its deadline: ms over (negative: under). */
  worstLatenessMs: number;
  counts: {
    orders201: number;
    ordersInDatabase: number;
    ordersUnacknowledged: number;
    ordersPaid: number;
    ordersPending: number;
    ordersCancelled: number;
    paidEmails: number;
    insufficientStock: number;
    unitsSold: number;
    unitsReserved: number;
    settledInMs: number | null;
  };
  violations: string[];
}

/** A PostgreSQL cluster of the suite's own, to stop and start as a fault: the machine's shared one must never be stopped. */
interface PrivatePostgres {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  keepLog(): Promise<void>;
  /** Synchronous last resort when this process exits before an orderly stop. */
  stopNow(): void;
}

async function startPrivatePostgres(workDir: string, port: number, logDir: string, log: (line: string) => void): Promise<PrivatePostgres> {
  const dataDir = path.join(workDir, 'pg');
  // In the work dir, which the postgres user owns; copied to the other logs at the end.
  const logFile = path.join(workDir, 'postgres.log');
  // PostgreSQL refuses to run as root: then the cluster belongs to the postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim();
    const [uid, gid] = [Number(id('-u')), Number(id('-g'))];
    if (!id('-u')) throw new Error('Running as root needs a "postgres" user to own the private PostgreSQL cluster.');
    fs.chownSync(workDir, uid, gid);
  }
  const command = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', tool, ...args]] : [tool, args];
  const run = async (tool: string, args: string[]) => {
    const [file, argv] = command(tool, args);
    await runQuietly(file, [...argv], workDir);
  };
  const ctl = (action: string[]) => run('pg_ctl', ['-D', dataDir, '-w', '-t', '60', ...action]);
  const options = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;

  await run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const start = () => ctl(['-l', logFile, '-o', options, 'start']);
  await start();
  log(`Private PostgreSQL ready on 127.0.0.1:${port}`);
  let running = true;
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/mart`,
    start: async () => {
      await start();
      running = true;
    },
    stop: async () => {
      await ctl(['-m', 'fast', 'stop']);
      running = false;
    },
    keepLog: () => fsp.copyFile(logFile, path.join(logDir, 'postgres.log')),
    stopNow: () => {
      if (!running) return;
      const [file, argv] = command('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']);
      spawnSync(file, [...argv], { cwd: workDir, stdio: 'ignore' });
      running = false;
    },
  };
}

async function runQuietly(file: string, args: string[], cwd: string): Promise<void> {
  const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${code}:\n${output}`);
}

/** What the client knows about one Idempotency-Key: every answer, and the order a 201 named. */
interface KeyRecord {
  customerId: string;
  statuses: (number | string)[];
  orderId?: string;
}

/** Every answer the customers got while they checked out, and the violations seen as they came. */
class Ledger {
  readonly keys = new Map<string, KeyRecord>();
  readonly http: Record<string, Record<string, number>> = {};
  readonly violations: string[] = [];
  worstLatenessMs = Number.NEGATIVE_INFINITY;

  answer(kind: RequestKind, outcome: number | string, elapsedMs: number, deadlineMs: number, detail: string): void {
    const byOutcome = (this.http[kind] ??= {});
    byOutcome[String(outcome)] = (byOutcome[String(outcome)] ?? 0) + 1;
    const lateness = elapsedMs - deadlineMs;
    this.worstLatenessMs = Math.max(this.worstLatenessMs, lateness);
    if (typeof outcome === 'string') this.violations.push(`${kind}: no answer (${outcome}) after ${Math.round(elapsedMs)} ms: ${detail}`);
    else if (!EXPECTED_STATUS[kind].includes(outcome)) this.violations.push(`${kind}: unexpected ${outcome}: ${detail}`);
    else if (lateness > 1000)
      this.violations.push(`${kind}: ${outcome} after ${Math.round(elapsedMs)} ms, deadline ${deadlineMs} ms + 1 s`);
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
}

async function request(
  ledger: Ledger,
  kind: RequestKind,
  deadlineMs: number,
  url: string,
  init: { method?: string; token: string; body?: unknown; headers?: Record<string, string> },
): Promise<Answer | undefined> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${init.token}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      // Far past the deadline: a hang is then measured, not cut short.
      signal: AbortSignal.timeout(deadlineMs + 10_000),
    });
    const text = await response.text();
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    ledger.answer(kind, response.status, performance.now() - started, deadlineMs, `${init.method ?? 'GET'} ${url} ${text.slice(0, 200)}`);
    return { status: response.status, body };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const outcome = (error as Error).name === 'TimeoutError' ? 'hang' : `reset${cause ? ` ${cause}` : ''}`;
    ledger.answer(kind, outcome, performance.now() - started, deadlineMs, `${init.method ?? 'GET'} ${url}: ${String(error)}`);
    return undefined;
  }
}

const shippingAddress = { line1: '1 Chaos St', city: 'Springfield', postalCode: '12345', country: 'US' };

/** One customer's loop: place (retried with its key on 503/504), pay, wait until PAID. */
async function checkoutLoop(
  customer: SeededCustomer,
  products: SeededProduct[],
  urls: { order: string; payment: string },
  rpcTimeoutMs: number,
  ledger: Ledger,
  stopped: () => boolean,
): Promise<void> {
  const deadline = (kind: RequestKind) => ROUND_TRIPS[kind] * rpcTimeoutMs;
  while (!stopped()) {
    const key = randomUUID();
    const record: KeyRecord = { customerId: customer.id, statuses: [] };
    ledger.keys.set(key, record);
    const chosen = [...products].sort(() => Math.random() - 0.5).slice(0, 1 + Math.floor(Math.random() * 2));
    const items = chosen.map((product) => ({ productId: product.id, quantity: 1 + Math.floor(Math.random() * 2) }));
    let orderId: string | undefined;
    for (let attempt = 0; attempt < 4 && !orderId; attempt++) {
      const placed = await request(ledger, 'place order', deadline('place order'), `${urls.order}/orders`, {
        method: 'POST',
        token: customer.token,
        headers: { 'idempotency-key': key },
        body: { items, shippingAddress },
      });
      record.statuses.push(placed?.status ?? 'no answer');
      if (placed?.status === 201) orderId = record.orderId = String(placed.body?.id);
      else if (placed?.status === 503 || placed?.status === 504) await sleep(500);
      else break;
    }
    if (!orderId) {
      await sleep(100);
      continue;
    }
    for (let attempt = 0; attempt < 4; attempt++) {
      const paid = await request(ledger, 'pay', deadline('pay'), `${urls.payment}/payments`, {
        method: 'POST',
        token: customer.token,
        body: { orderId, paymentMethod: 'pm_card_visa' },
      });
      if (paid?.status !== 503 && paid?.status !== 504) break;
      await sleep(500);
    }
    // Until PAID, or give up on this order (the settle phase and the checks still cover it).
    const giveUpAt = Date.now() + 15_000;
    while (!stopped() && Date.now() < giveUpAt) {
      const current = await request(ledger, 'get order', deadline('get order'), `${urls.order}/orders/${orderId}`, {
        token: customer.token,
      });
      if (current?.body?.status === 'PAID') break;
      await sleep(200);
    }
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanUp = once(async () => {
    for (const step of cleanups.reverse()) {
      await step().catch((error: unknown) => log(`Cleanup step failed: ${String(error)}`));
    }
  });
  const interrupted = (signal: NodeJS.Signals) => {
    log(`\n${signal}: stopping everything the fault suite started ...`);
    void cleanUp().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  cleanups.push(async () => {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
  });

  try {
    return await run(options, log, cleanups);
  } finally {
    await cleanUp();
  }
}

async function run(options: ChaosOptions, log: (line: string) => void, cleanups: (() => Promise<unknown>)[]): Promise<ChaosReport> {
  const workDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mart-chaos-'));
  cleanups.push(() => fsp.rm(workDir, { recursive: true, force: true }));
  // Kept after the run, one folder per port offset so that runs side by side keep theirs apart.
  const logDir = path.join(
    REPO_ROOT,
    '.mart',
    options.portOffset === fullRun.portOffset ? 'chaos-logs' : `chaos-logs-${options.portOffset}`,
  );
  await fsp.rm(logDir, { recursive: true, force: true });
  await fsp.mkdir(logDir, { recursive: true });

  const postgres = await startPrivatePostgres(workDir, options.postgresPort, logDir, log);
  const stopPostgresAtExit = () => postgres.stopNow();
  process.once('exit', stopPostgresAtExit);
  cleanups.push(async () => {
    postgres.stopNow();
    await postgres.keepLog();
    process.off('exit', stopPostgresAtExit);
  });
  await ensureDatabase(postgres.url);

  const kafkaPort = 9092 + options.portOffset;
  let brokerStarts = 0;
  // The broker restart is one of the faults: it must not take longer to write a class archive.
  const kafkaSettings = { dataDir: path.join(workDir, 'kafka'), port: kafkaPort, controllerPort: kafkaPort + 1, recordClasses: false };
  const startBroker = () => startKafka({ ...kafkaSettings, logFile: path.join(logDir, `kafka-${++brokerStarts}.log`), log });
  let broker: KafkaBroker | null = await startBroker();
  cleanups.push(async () => broker?.stop());
  log(`Private Kafka broker ready at ${broker.brokers}`);

  const services = options.services === 'all' ? servicesWithSource() : CHECKOUT_SERVICES;
  const startedAt = Date.now();
  const stack = await startStack({
    kafka: { brokers: broker.brokers },
    databaseUrl: postgres.url,
    keysDir: path.join(workDir, 'keys'),
    logDir: logDir,
    services,
    ports: portsAt(options.portOffset),
    env: {
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
      RPC_TIMEOUT_MS: String(options.rpcTimeoutMs),
      // The simulated payment provider and the local mail transport.
      STRIPE_SECRET_KEY: '',
      GMAIL_CLIENT_ID: '',
      // An email claimed just before a fault waits out its lease (120 s by default) before a retry.
      NOTIFICATION_LEASE_SECONDS: '15',
    },
    // Eleven services starting at once on two busy cores can take more than the usual minute.
    readyTimeoutMs: 180_000,
    log,
  });
  cleanups.push(stack.stop);
  log(`Stack (${services.length} services) ready in ${seconds(Date.now() - startedAt)}; logs in ${path.relative(REPO_ROOT, logDir)}`);

  const { products, customers } = await seed(stack, options.customers);
  const ledger = new Ledger();
  let loadStopped = false;
  const urls = { order: stack.urls['order-service']!, payment: stack.urls['payment-service']! };
  log(`${options.customers} customers checking out; faults follow every ${seconds(options.phaseMs)}`);
  const load = Promise.all(
    customers.map((customer) => checkoutLoop(customer, products, urls, options.rpcTimeoutMs, ledger, () => loadStopped)),
  );

  const faults: FaultResult[] = [];
  /** The fault ends once `mendIt` has the broken part running again (or, with `clockFromMendStart`, once it is started). */
  const inject = async (fault: string, breakIt: () => Promise<void>, mendIt: () => Promise<void>, clockFromMendStart = false) => {
    log(`fault: ${fault}`);
    const began = performance.now();
    await breakIt();
    const mendStarted = performance.now();
    const readyCheck = clockFromMendStart ? readiness(stack, 2 * READY_WITHIN_MS) : undefined;
    await mendIt().catch((error: unknown) => ledger.violations.push(`${fault}: recovery failed: ${String(error)}`));
    const ended = clockFromMendStart ? mendStarted : performance.now();
    const readyAt = await (readyCheck ?? readiness(stack, 2 * READY_WITHIN_MS));
    const times = Object.values(readyAt);
    const readyAfterMs = times.includes(null) ? null : Math.max(...(times as number[]));
    faults.push({ fault, downMs: Math.round(ended - began), readyAfterMs, readyAt });
    log(`  down ${seconds(ended - began)}, every service ready ${readyAfterMs === null ? 'never' : `after ${seconds(readyAfterMs)}`}`);
    if (readyAfterMs === null || readyAfterMs > READY_WITHIN_MS) {
      const slow = Object.entries(readyAt).filter(([, ms]) => ms === null || ms > READY_WITHIN_MS);
      ledger.violations.push(
        `${fault}: not ready within ${seconds(READY_WITHIN_MS)} of the fault ending: ${slow.map(([name, ms]) => `${name} ${ms ?? 'never'}`).join(', ')}`,
      );
    }
    await sleep(options.phaseMs);
  };

  try {
    await sleep(options.phaseMs);
    await inject(
      'SIGKILL db-service, then restart it',
      async () => {
        await fsp.copyFile(path.join(logDir, 'db-service.log'), path.join(logDir, 'db-service.killed.log'));
        await stack.killService('db-service', 'SIGKILL');
        await sleep(1000);
      },
      async () => void (await stack.relaunchService('db-service')),
      true,
    );
    await inject(
      'restart the Kafka broker',
      async () => {
        await broker?.stop();
        broker = null;
        await sleep(options.downMs);
      },
      async () => void (broker = await startBroker()),
    );
    await inject(
      `stop PostgreSQL for ${seconds(options.downMs)}`,
      async () => {
        await postgres.stop();
        await sleep(options.downMs);
      },
      () => postgres.start(),
    );
  } finally {
    loadStopped = true;
    await load;
  }

  log('Load stopped; letting the system settle ...');
  const database = new pg.Client({ connectionString: postgres.url });
  await database.connect();
  try {
    const settledInMs = await settle(database);
    if (settledInMs === null) ledger.violations.push(`the system did not settle within ${seconds(SETTLE_TIMEOUT_MS)}`);
    const counts = await verify(database, ledger, products);
    return {
      options: {
        customers: options.customers,
        phaseMs: options.phaseMs,
        downMs: options.downMs,
        portOffset: options.portOffset,
        postgresPort: options.postgresPort,
        rpcTimeoutMs: options.rpcTimeoutMs,
        services: options.services,
      },
      services,
      faults,
      http: ledger.http,
      worstLatenessMs: Math.round(ledger.worstLatenessMs),
      counts: { ...counts, settledInMs },
      violations: ledger.violations,
    };
  } finally {
    await database.end();
  }
}

/** Products (two plentiful, two scarce so some orders get 409) and customers, straight through db-service. */
async function seed(stack: Stack, customers: number): Promise<{ products: SeededProduct[]; customers: SeededCustomer[] }> {
  const privateKey = await fsp.readFile(stack.keys.privateKeyFile, 'utf8');
  return withRpcClient({ brokers: stack.brokers, service: 'chaos-seed' }, (rpc) =>
    seedCheckout(rpc, { label: 'Chaos', stocks: [100_000, 100_000, 3 * customers, 2 * customers], customers, privateKey }),
  );
}

/** When each service's /ready first answered 200 (ms from now), or null if not within `timeoutMs`. */
async function readiness(stack: Stack, timeoutMs: number): Promise<Record<string, number | null>> {
  const started = performance.now();
  const readyAt: Record<string, number | null> = Object.fromEntries(stack.services.map((service) => [service.name, null]));
  while (performance.now() - started < timeoutMs && Object.values(readyAt).includes(null)) {
    await Promise.all(
      stack.services
        .filter((service) => readyAt[service.name] === null)
        .map(async (service) => {
          if (await isReady(service.url)) readyAt[service.name] = Math.round(performance.now() - started);
        }),
    );
    await sleep(250);
  }
  return readyAt;
}

/** The work still owed once load stops; settled when all of it is zero. */
const OWED_SQL = `
  SELECT
    (SELECT count(*) FROM outbox_events WHERE published_at IS NULL) AS unpublished,
    (SELECT count(DISTINCT p.order_id) FROM payments p JOIN orders o ON o.id = p.order_id
       WHERE p.status = 'SUCCEEDED' AND o.status = 'PENDING_PAYMENT') AS paid_not_marked,
    (SELECT count(*) FROM reservations r JOIN orders o ON o.id = r.order_id
       WHERE r.status = 'RESERVED' AND o.status <> 'PENDING_PAYMENT') AS reservations_not_moved,
    (SELECT count(*) FROM orders o WHERE o.status = 'PAID' AND NOT EXISTS (
       SELECT 1 FROM notifications n WHERE n.type = 'order.paid' AND n.status = 'SENT'
         AND n.subject LIKE '%' || upper(left(o.id::text, 8)))) AS emails_not_sent`;

async function settle(database: pg.Client): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < SETTLE_TIMEOUT_MS) {
    const { rows } = await database.query<Record<string, string>>(OWED_SQL);
    if (Object.values(rows[0]!).every((count) => Number(count) === 0)) return Math.round(performance.now() - started);
    await sleep(500);
  }
  return null;
}

async function verify(database: pg.Client, ledger: Ledger, products: SeededProduct[]) {
  const violations = ledger.violations;
  const { rows: orders } = await database.query<{ id: string; customer_id: string; idempotency_key: string | null; status: string }>(
    'SELECT id::text, customer_id::text, idempotency_key, status::text FROM orders',
  );
  const byId = new Map(orders.map((order) => [order.id, order]));

  // Every 201 names an order that exists, and each key made at most one order.
  const acknowledged = [...ledger.keys.values()].filter((record) => record.orderId);
  for (const record of acknowledged)
    if (!byId.has(record.orderId!)) violations.push(`order ${record.orderId} got a 201 but is not in the database`);
  const perKey = new Map<string, number>();
  for (const order of orders)
    perKey.set(`${order.customer_id}:${order.idempotency_key}`, (perKey.get(`${order.customer_id}:${order.idempotency_key}`) ?? 0) + 1);
  for (const [key, count] of perKey) if (count > 1) violations.push(`Idempotency-Key ${key} made ${count} orders`);
  // An order the client never saw is allowed only where every answer for its key was 503/504.
  let unacknowledged = 0;
  for (const order of orders) {
    const record = order.idempotency_key ? ledger.keys.get(order.idempotency_key) : undefined;
    if (record?.orderId === order.id) continue;
    if (record && !record.orderId && record.statuses.every((status) => status === 503 || status === 504)) unacknowledged++;
    else violations.push(`order ${order.id} exists but its client got ${record ? record.statuses.join(', ') : 'no such key'}`);
  }

  // Stock: reserved = units of orders still holding a reservation, on hand = initial - sold.
  const { rows: stock } = await database.query<{ product_id: string; on_hand: number; reserved: number; held: string; sold: string }>(`
    SELECT i.product_id::text, i.on_hand, i.reserved,
      coalesce(sum(oi.quantity) FILTER (WHERE o.status = 'PENDING_PAYMENT'), 0) AS held,
      coalesce(sum(oi.quantity) FILTER (WHERE o.status IN ('PAID', 'SHIPPED', 'DELIVERED')), 0) AS sold
    FROM inventory_items i LEFT JOIN order_items oi ON oi.product_id = i.product_id LEFT JOIN orders o ON o.id = oi.order_id
    GROUP BY i.product_id, i.on_hand, i.reserved`);
  let unitsSold = 0;
  let unitsReserved = 0;
  for (const product of products) {
    const row = stock.find((candidate) => candidate.product_id === product.id);
    if (!row) {
      violations.push(`product ${product.id} has no stock record`);
      continue;
    }
    const [held, sold] = [Number(row.held), Number(row.sold)];
    unitsSold += sold;
    unitsReserved += row.reserved;
    const what = `product ${product.id} (stock ${product.initialStock})`;
    if (row.reserved !== held) violations.push(`${what}: reserved ${row.reserved}, but its pending orders hold ${held}`);
    if (row.on_hand !== product.initialStock - sold) violations.push(`${what}: on hand ${row.on_hand}, but ${sold} sold`);
    if (sold > product.initialStock) violations.push(`${what}: oversold, ${sold} sold`);
    if (row.on_hand - row.reserved < 0) violations.push(`${what}: available ${row.on_hand - row.reserved}`);
  }

  // Exactly one paid email per PAID order, and none for an order that is not paid.
  const { rows: emails } = await database.query<{ id: string; status: string; emails: string; sent: string }>(`
    SELECT o.id::text, o.status::text, count(n.id) AS emails, count(n.id) FILTER (WHERE n.status = 'SENT') AS sent
    FROM orders o JOIN customers c ON c.id = o.customer_id
    LEFT JOIN notifications n ON n.type = 'order.paid' AND n."to" = c.email AND n.subject LIKE '%' || upper(left(o.id::text, 8))
    GROUP BY o.id, o.status`);
  let paidEmails = 0;
  for (const row of emails) {
    paidEmails += Number(row.emails);
    const expected = row.status === 'PAID' ? 1 : 0;
    if (Number(row.emails) !== expected || Number(row.sent) !== expected) {
      violations.push(`order ${row.id} is ${row.status} with ${row.emails} paid email(s), ${row.sent} sent`);
    }
  }
  const { rows: lost } = await database.query<{ order_id: string }>(`
    SELECT DISTINCT p.order_id::text FROM payments p JOIN orders o ON o.id = p.order_id
    WHERE p.status = 'SUCCEEDED' AND o.status = 'PENDING_PAYMENT'`);
  for (const row of lost) violations.push(`order ${row.order_id} has a succeeded payment but is not PAID`);

  const statusCount = (status: string) => orders.filter((order) => order.status === status).length;
  return {
    orders201: acknowledged.length,
    ordersInDatabase: orders.length,
    ordersUnacknowledged: unacknowledged,
    ordersPaid: statusCount('PAID'),
    ordersPending: statusCount('PENDING_PAYMENT'),
    ordersCancelled: statusCount('CANCELLED'),
    paidEmails,
    insufficientStock: ledger.http['place order']?.['409'] ?? 0,
    unitsSold,
    unitsReserved,
  };
}

export function printReport(report: ChaosReport): void {
  console.log(`\nMart fault suite: ${report.options.customers} customers, ${report.services.length} services, ${os.cpus().length} cores\n`);
  console.table(
    Object.fromEntries(
      report.faults.map((fault) => [fault.fault, { 'down ms': fault.downMs, 'ready again after ms': fault.readyAfterMs ?? 'never' }]),
    ),
  );
  console.table(report.http);
  console.table(report.counts);
  console.log(`worst answer vs its deadline: ${report.worstLatenessMs} ms`);
  if (report.violations.length === 0) console.log('\nNo violation.');
  else console.log(`\n${report.violations.length} violation(s), by kind (a few examples each):\n${groupViolations(report.violations)}`);
}

/** Hundreds of 500s read better as one line with a count and examples; the JSON keeps them all. */
function groupViolations(violations: string[]): string {
  const groups = new Map<string, string[]>();
  for (const line of violations) {
    const kind = line.replace(/\{.*$|[0-9a-f]{8}-[0-9a-f-]{27}|\d+/g, '#').slice(0, 70);
    groups.set(kind, [...(groups.get(kind) ?? []), line]);
  }
  return [...groups.values()]
    .map(
      (lines) =>
        `  - ${lines.length} x ${lines[0]}${lines
          .slice(1, 3)
          .map((line) => `\n        ${line}`)
          .join('')}`,
    )
    .join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: String(fullRun.customers) },
      'phase-seconds': { type: 'string', default: String(fullRun.phaseMs / 1000) },
      'port-offset': { type: 'string', default: String(fullRun.portOffset) },
      'postgres-port': { type: 'string', default: String(fullRun.postgresPort) },
      services: { type: 'string', default: fullRun.services },
      bounded: { type: 'boolean', default: false },
    },
  });
  const base = values.bounded ? boundedRun : fullRun;
  const options: ChaosOptions = values.bounded
    ? base
    : {
        ...base,
        customers: Number(values.customers),
        phaseMs: Number(values['phase-seconds']) * 1000,
        portOffset: Number(values['port-offset']),
        postgresPort: Number(values['postgres-port']),
        services: values.services === 'checkout' ? 'checkout' : 'all',
      };
  runChaos(options)
    .then((report) => {
      printReport(report);
      saveResults('chaos', { ...report });
      process.exitCode = report.violations.length === 0 ? 0 : 1;
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exitCode = 1;
    });
}
