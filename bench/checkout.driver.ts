/**
 * W3's load generator, a child process of `npm run bench`: one checkout is POST /orders, then
 * POST /payments with pm_card_visa, then GET /orders/:id until the order is PAID (the payment
 * event has gone through order-service). Prints one JSON RawRun on stdout.
 *
 *   echo '<CheckoutPlan as JSON>' | tsx bench/checkout.driver.ts
 *
 * Modes: `rate` starts checkouts at a fixed rate whether or not earlier ones are done (open
 * loop, for latency); `max` runs `concurrency` customers that each start the next checkout as
 * soon as their last one is PAID (closed loop, for throughput).
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { drive, type DrivePlan } from './drive.ts';
import { measuredWindow, report } from './window.ts';

export interface CheckoutPlan extends DrivePlan {
  orderUrl: string;
  paymentUrl: string;
  /** Customer access tokens; checkouts take them in turn. */
  tokens: string[];
  /** Each checkout buys one unit of one of these, at random: no single hot stock row. */
  productIds: string[];
  seconds: number;
  warmupSeconds: number;
  /**
   * The first pause between two reads of the order while waiting for PAID; each next pause is half
   * as long again, up to maxPollMs. A fixed short pause turns a slow system into a flood of
   * reads that makes it slower still: the bench would measure its own polling.
   */
  pollMs: number;
  maxPollMs: number;
  /** A checkout not PAID by then counts as an error. */
  timeoutMs: number;
}

const shippingAddress = { line1: '1 Bench St', city: 'Springfield', postalCode: '12345', country: 'US' };

async function call(
  url: string,
  token: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> },
  expected: number,
) {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  if (response.status !== expected)
    throw new Error(`${init.method ?? 'GET'} ${new URL(url).pathname}: ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as { id?: string; status?: string };
}

/** One checkout; resolves with how long each step took, in milliseconds. */
async function checkout(plan: CheckoutPlan, token: string): Promise<Record<string, number>> {
  const started = performance.now();
  const deadline = started + plan.timeoutMs;
  const order = await call(
    `${plan.orderUrl}/orders`,
    token,
    {
      method: 'POST',
      headers: { 'idempotency-key': randomUUID() },
      body: { items: [{ productId: plan.productIds[Math.floor(Math.random() * plan.productIds.length)], quantity: 1 }], shippingAddress },
    },
    201,
  );
  const placed = performance.now();
  await call(`${plan.paymentUrl}/payments`, token, { method: 'POST', body: { orderId: order.id, paymentMethod: 'pm_card_visa' } }, 201);
  const paid = performance.now();
  for (let pause = plan.pollMs; ; pause = Math.min(pause * 1.5, plan.maxPollMs)) {
    const current = await call(`${plan.orderUrl}/orders/${String(order.id)}`, token, {}, 200);
    if (current.status === 'PAID')
      return { 'POST /orders': placed - started, 'POST /payments': paid - placed, 'until PAID': performance.now() - paid };
    if (performance.now() > deadline)
      throw new Error(`order ${String(order.id)} still ${String(current.status)} after ${plan.timeoutMs} ms`);
    await sleep(pause);
  }
}

const plan = JSON.parse(fs.readFileSync(0, 'utf8')) as CheckoutPlan;
let turn = 0;
const checkoutInTurn = () => checkout(plan, plan.tokens[turn++ % plan.tokens.length]!);
if (plan.warmupSeconds > 0) await drive(plan, plan.warmupSeconds, checkoutInTurn);
report(await measuredWindow(() => drive(plan, plan.seconds, checkoutInTurn)));
