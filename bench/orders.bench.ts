/**
 * Issue 5's figure: the latency of `POST /orders` through the whole architecture (HTTP → Kafka →
 * db-service: one transaction that prices, reserves stock and writes the order, items,
 * reservations and the outbox event → Kafka → HTTP), sequentially, each with its own
 * Idempotency-Key, for a one-line and a three-line order.
 *
 *   npm run bench:orders -- [--requests 1000] [--warmup 100] [--port-offset 20000]
 *
 * Starts its own broker, database (mart_bench, recreated; BENCH_DATABASE_URL overrides) and
 * db-, inventory- and order-service at the dev ports + the offset. Prints a table and writes
 * bench/results/orders-<time>.json.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { seedCheckout } from '../tools/checkout.seed.ts';
import { saveResults } from '../tools/results.ts';
import { withRpcClient } from '../tools/rpc.ts';
import { portsAt } from '../tools/services.ts';
import { localDatabaseUrl } from '../tools/stack.ts';
import { rssMiB, stackPids, startBenchStack } from './bench.stack.ts';
import { timeSequential, type LatencySummary } from './stats.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '100' },
    'port-offset': { type: 'string', default: '20000' },
  },
});
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const offset = Number(values['port-offset']);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? localDatabaseUrl('mart_bench');
const services = ['db-service', 'inventory-service', 'order-service'] as const;

const { stack, stop } = await startBenchStack({
  name: 'orders',
  databaseUrl,
  services,
  ports: portsAt(offset),
  kafkaPort: 9092 + offset,
});

try {
  const orderUrl = stack.urls['order-service']!;
  // Three products with stock enough for every order, and a customer to buy them.
  const shop = await withRpcClient({ brokers: stack.brokers, service: 'bench-orders' }, (rpc) =>
    seedCheckout(rpc, {
      label: 'Bench',
      stocks: [1_000_000, 1_000_000, 1_000_000],
      customers: 1,
      privateKey: fs.readFileSync(stack.keys.privateKeyFile, 'utf8'),
    }),
  );
  const token = shop.customers[0]!.token;
  const productIds = shop.products.map((product) => product.id);
  const shippingAddress = { line1: '1 Bench St', city: 'Springfield', postalCode: '12345', country: 'US' };
  const placeOrder = (lines: number) => async () => {
    const response = await fetch(`${orderUrl}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ items: productIds.slice(0, lines).map((productId) => ({ productId, quantity: 1 })), shippingAddress }),
    });
    if (response.status !== 201) throw new Error(`unexpected status ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };

  const results: Record<string, LatencySummary> = {};
  results['POST /orders, 1 line'] = await timeSequential(requests, warmup, placeOrder(1));
  results['POST /orders, 3 lines'] = await timeSequential(requests, warmup, placeOrder(3));

  const rss = rssMiB(stackPids(stack));
  console.log(`\nMart order placement, ${requests} sequential requests after ${warmup} warm-up, ${os.cpus().length} cores\n`);
  console.table(
    Object.fromEntries(
      Object.entries(results).map(([name, s]) => [
        name,
        { 'p50 ms': s.p50, 'p90 ms': s.p90, 'p99 ms': s.p99, 'max ms': s.max, 'mean ms': s.mean },
      ]),
    ),
  );
  console.log('RSS MiB:', rss);

  saveResults('orders', { requests, warmup, rssMiB: rss, results });
} finally {
  await stop();
}
