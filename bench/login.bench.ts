/**
 * Login throughput, and what the bcrypt cost factor (BCRYPT_COST) costs on this machine.
 *
 *   npm run bench:login -- [--costs 10,11,12] [--duration 15] [--connections 8]
 *
 * 1. Hash time per cost: bcryptjs in this process, median of a few hashes for costs 8 to 13.
 * 2. POST /auth/login requests per second for each cost in --costs: a separate autocannon process
 *    drives one auth-service instance (with db-service over Kafka behind it) for --duration
 *    seconds; the account's stored hash is rewritten with each cost between runs.
 *
 * Starts its own broker (port --kafka-port), database (mart_bench_login, recreated) and services
 * on the dev ports + --port-offset, unless KAFKA_BROKERS is set. Prints a table and writes
 * bench/results/login-<time>.json.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { hashPassword } from '@mart/common/credentials';
import { saveResults } from '../tools/results.ts';
import { REPO_ROOT, portsAt } from '../tools/services.ts';
import { startBenchStack } from './bench.stack.ts';

const { values } = parseArgs({
  options: {
    costs: { type: 'string', default: '10,11,12' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '8' },
    'kafka-port': { type: 'string', default: '29292' },
    'port-offset': { type: 'string', default: '20100' },
  },
});
const costs = values.costs.split(',').map(Number);
const duration = Number(values.duration);
const connections = Number(values.connections);
const kafkaPort = Number(values['kafka-port']);
const portOffset = Number(values['port-offset']);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mart_bench_login';
const autocannon = path.join(REPO_ROOT, 'node_modules', 'autocannon', 'autocannon.js');

async function medianHashMs(cost: number): Promise<number> {
  const runs = cost >= 12 ? 3 : 5;
  await hashPassword('warm up', cost);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await hashPassword('correct horse battery', cost);
    samples.push(performance.now() - started);
  }
  return Math.round(samples.sort((a, b) => a - b)[Math.floor(runs / 2)]! * 10) / 10;
}

interface AutocannonResult {
  duration: number;
  errors: number;
  non2xx: number;
  '2xx': number;
  latency: { p50: number; p99: number; average: number };
}

/** autocannon in its own process, so the load generator does not share auth-service's event loop. */
function loadTest(url: string, body: string): Promise<AutocannonResult> {
  const args = [autocannon, '-j', '-c', String(connections), '-d', String(duration), '-m', 'POST'];
  args.push('-H', 'content-type=application/json', '-b', body, url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(JSON.parse(output) as AutocannonResult) : reject(new Error(`autocannon exited ${code}`)),
    );
  });
}

const hashMs: Record<number, number> = {};
for (let cost = 8; cost <= 13; cost++) hashMs[cost] = await medianHashMs(cost);

const { stack, stop } = await startBenchStack({
  name: 'login',
  databaseUrl,
  services: ['db-service', 'auth-service', 'customer-service'],
  ports: portsAt(portOffset),
  kafkaPort,
  allowExternalKafka: true,
  // The per-account limit counts logins in flight, so with more connections than it allows this
  // one account would be answered 429; the limiter still runs, it just cannot trip.
  env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000' },
});

const database = new pg.Pool({ connectionString: databaseUrl, max: 1 });
try {
  const email = 'bench@example.com';
  const password = 'correct horse battery';
  const registered = await fetch(`${stack.urls['customer-service']}/customers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, name: 'Bench' }),
  });
  if (registered.status !== 201) throw new Error(`could not register the benchmark customer: ${registered.status}`);

  const results: Record<string, { 'hash ms': number; 'logins/s': number; 'p50 ms': number; 'p99 ms': number; 'non-2xx': number }> = {};
  for (const cost of costs) {
    await database.query('UPDATE customers SET password_hash = $1 WHERE email = $2', [await hashPassword(password, cost), email]);
    const result = await loadTest(`${stack.urls['auth-service']}/auth/login`, JSON.stringify({ email, password }));
    if (result.errors > 0 || result.non2xx > 0) console.warn(`cost ${cost}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
    results[`cost ${cost}`] = {
      'hash ms': hashMs[cost] ?? NaN,
      'logins/s': Math.round((result['2xx'] / result.duration) * 10) / 10,
      'p50 ms': result.latency.p50,
      'p99 ms': result.latency.p99,
      'non-2xx': result.non2xx + result.errors,
    };
  }

  console.log(`\nbcryptjs hash time per cost (median, this process), ${os.cpus().length} cores:`);
  console.table(Object.fromEntries(Object.entries(hashMs).map(([cost, ms]) => [`cost ${cost}`, { 'hash ms': ms }])));
  console.log(`\nPOST /auth/login, one auth-service instance, ${connections} connections for ${duration} s each (autocannon):`);
  console.table(results);

  saveResults('login', { cores: os.cpus().length, connections, duration, hashMs, results });
} finally {
  await database.end();
  await stop();
}
