/**
 * Issue 5's throughput figure: checkouts per second end to end. Each virtual customer loops
 * place order → pay with pm_card_visa → wait until the order is PAID (the payment event has
 * gone through order-service); afterwards the run waits until every paid order's email is
 * recorded by notification-service. Simulated payment provider, local mail transport.
 *
 *   npm run bench:checkout -- [--concurrency 16] [--seconds 30] [--port-offset 21000]
 *
 * Starts its own broker, database (mart_bench, recreated; BENCH_DATABASE_URL overrides) and the
 * services the flow needs at the dev ports + the offset. Writes bench/results/checkout-<time>.json.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { RpcClient, createKafka, createLogger } from '@mart/common';
import { mintToken } from '@mart/common/testing';
import { serviceDefinition } from '../tools/services.ts';
import { saveResults, startBenchStack } from './bench.stack.ts';
import { summarize } from './stats.ts';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '30' },
    'port-offset': { type: 'string', default: '21000' },
  },
});
const concurrency = Number(values.concurrency);
const durationMs = Number(values.seconds) * 1000;
const offset = Number(values['port-offset']);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mart_bench';
const services = ['db-service', 'inventory-service', 'order-service', 'payment-service', 'notification-service'] as const;
const logger = createLogger('bench', 'silent');

const { stack, stop } = await startBenchStack({
  name: 'checkout',
  databaseUrl,
  services,
  ports: Object.fromEntries(services.map((name) => [name, serviceDefinition(name).port + offset])),
  kafkaPort: 9092 + offset,
  // The simulated provider and the local mail transport: no Stripe or Gmail variables.
  env: { STRIPE_SECRET_KEY: '', GMAIL_CLIENT_ID: '', NOTIFICATION_POLL_MS: '1000' },
});
const rpc = new RpcClient({
  kafka: createKafka({ clientId: 'bench-checkout', brokers: stack.brokers.split(','), logger }),
  service: 'bench-checkout',
  instanceId: randomUUID().slice(0, 8),
  timeoutMs: 10_000,
  logger,
});

async function json(url: string, init: RequestInit & { token: string }, expected: number): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${init.token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
  const body = await response.text();
  if (response.status !== expected) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${body}`);
  return JSON.parse(body) as Record<string, unknown>;
}

try {
  await rpc.start();
  const privateKey = fs.readFileSync(stack.keys.privateKeyFile, 'utf8');
  const productId = await productInStock(rpc);
  const customers = await Promise.all(Array.from({ length: concurrency }, (_, i) => customer(rpc, privateKey, i)));
  const staff = mintToken(privateKey, { kind: 'user', role: 'staff' });
  const [orderUrl, paymentUrl, notificationUrl] = [
    stack.urls['order-service']!,
    stack.urls['payment-service']!,
    stack.urls['notification-service']!,
  ];
  const shippingAddress = { line1: '1 Bench St', city: 'Springfield', postalCode: '12345', country: 'US' };

  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    customers.map(async (token) => {
      while (performance.now() < deadline) {
        const began = performance.now();
        try {
          const order = await json(
            `${orderUrl}/orders`,
            {
              method: 'POST',
              token,
              headers: { 'idempotency-key': randomUUID() },
              body: JSON.stringify({ items: [{ productId, quantity: 1 }], shippingAddress }),
            },
            201,
          );
          await json(
            `${paymentUrl}/payments`,
            { method: 'POST', token, body: JSON.stringify({ orderId: order.id, paymentMethod: 'pm_card_visa' }) },
            201,
          );
          for (;;) {
            const current = await json(`${orderUrl}/orders/${String(order.id)}`, { token }, 200);
            if (current.status === 'PAID') break;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          latencies.push(performance.now() - began);
        } catch (error) {
          failures++;
          if (failures <= 3) console.error(String(error));
        }
      }
    }),
  );
  const elapsedMs = performance.now() - started;

  // Every paid order must also get its email; wait for notification-service to catch up.
  let emails = 0;
  const drainDeadline = performance.now() + 120_000;
  while (performance.now() < drainDeadline) {
    const page = await json(`${notificationUrl}/notifications?type=order.paid&status=SENT&pageSize=1`, { token: staff }, 200);
    emails = Number(page.total);
    if (emails >= latencies.length) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const untilEmailsMs = performance.now() - started;

  const result = {
    concurrency,
    seconds: elapsedMs / 1000,
    checkoutsPaid: latencies.length,
    failures,
    paidPerSecond: Math.round((latencies.length / (elapsedMs / 1000)) * 10) / 10,
    paidEmailsRecorded: emails,
    checkoutsWithEmailPerSecond: Math.round((emails / (untilEmailsMs / 1000)) * 10) / 10,
    latencyToPaidMs: summarize(latencies),
  };
  console.log(`\nMart checkout, ${concurrency} concurrent customers for ${values.seconds} s, ${os.cpus().length} cores\n`);
  console.table({
    'placed → paid → PAID': {
      'checkouts/s': result.paidPerSecond,
      'p50 ms': result.latencyToPaidMs.p50,
      'p99 ms': result.latencyToPaidMs.p99,
      completed: result.checkoutsPaid,
      errors: failures,
    },
    '… → paid email recorded': { 'checkouts/s': result.checkoutsWithEmailPerSecond, completed: emails },
  });
  saveResults('checkout', { ...result });
  if (failures > 0 || emails < latencies.length) process.exitCode = 1;
} finally {
  await rpc.stop();
  await stop();
}

async function productInStock(client: RpcClient): Promise<string> {
  const brand = await client.call('brand.create', { id: randomUUID(), name: 'Checkout bench brand' });
  const category = await client.call('category.create', { id: randomUUID(), name: 'Checkout bench category' });
  const product = await client.call('product.create', {
    id: randomUUID(),
    sku: 'CHECKOUT-1',
    name: 'Checkout bench item',
    description: '',
    priceCents: 1999,
    currency: 'USD',
    brandId: brand.id,
    categoryId: category.id,
    active: true,
  });
  await client.call('inventory.set', { productId: product.id, onHand: 1_000_000, actorId: '' });
  return product.id;
}

/** A registered customer (the hash is never used to log in) and an access token for them. */
async function customer(client: RpcClient, privateKey: string, n: number): Promise<string> {
  const id = randomUUID();
  const email = `checkout-${n}@bench.mart`;
  await client.call('customer.register', { id, email, name: `Bench ${n}`, passwordHash: `$2b$10$${'a'.repeat(53)}` });
  return mintToken(privateKey, { kind: 'customer', sub: id, email });
}
