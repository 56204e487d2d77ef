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
import { RpcClient, createKafka } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { mintToken } from '@mart/common/testing';
import { serviceDefinition } from '../tools/services.ts';
import { localDatabaseUrl } from '../tools/stack.ts';
import { rssMiB, saveResults, startBenchStack } from './bench.stack.ts';
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
const logger = createLogger('bench', 'silent');

const { stack, stop } = await startBenchStack({
  name: 'orders',
  databaseUrl,
  services,
  ports: Object.fromEntries(services.map((name) => [name, serviceDefinition(name).port + offset])),
  kafkaPort: 9092 + offset,
});
const rpc = new RpcClient({
  kafka: createKafka({ clientId: 'bench-orders', brokers: stack.brokers.split(','), logger }),
  service: 'bench-orders',
  instanceId: randomUUID().slice(0, 8),
  timeoutMs: 10_000,
  logger,
});

try {
  await rpc.start();
  const orderUrl = stack.urls['order-service']!;
  const { token, productIds } = await catalogAndCustomer(rpc, fs.readFileSync(stack.keys.privateKeyFile, 'utf8'));
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

  const rss = rssMiB(stack);
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
  await rpc.stop();
  await stop();
}

/** Three products with stock enough for every order, and a customer token to buy them with. */
async function catalogAndCustomer(client: RpcClient, privateKey: string): Promise<{ token: string; productIds: string[] }> {
  const brand = await client.call('brand.create', { id: randomUUID(), name: 'Bench brand' });
  const category = await client.call('category.create', { id: randomUUID(), name: 'Bench category' });
  const productIds: string[] = [];
  for (const n of [1, 2, 3]) {
    const product = await client.call('product.create', {
      id: randomUUID(),
      sku: `BENCH-${n}`,
      name: `Bench item ${n}`,
      description: '',
      priceCents: 999 * n,
      currency: 'USD',
      brandId: brand.id,
      categoryId: category.id,
      active: true,
    });
    await client.call('inventory.set', { productId: product.id, onHand: 1_000_000, actorId: '' });
    productIds.push(product.id);
  }
  const customerId = randomUUID();
  // customer.register wants a bcrypt hash; nobody logs in with this one.
  await client.call('customer.register', {
    id: customerId,
    email: 'bench@mart.local',
    name: 'Bench',
    passwordHash: `$2b$10$${'a'.repeat(53)}`,
  });
  return { token: mintToken(privateKey, { kind: 'customer', sub: customerId, email: 'bench@mart.local' }), productIds };
}
