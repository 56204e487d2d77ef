import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import { api, mintToken, requiredEnv, serviceUrl, stackKeys } from '@mart/common/testing';
import { events, headers, type EventMessage } from '@mart/proto';

// What the payment and notification end-to-end suites share: HTTP calls to the running stack,
// a customer with an order to pay, the fake providers' records, and reading Kafka events.

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
}

export function call(base: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Reply> {
  return api(base).call(method, path, options);
}

export function tokens() {
  const { privateKey } = stackKeys();
  return {
    staff: mintToken(privateKey, { kind: 'user', role: 'staff' }),
    admin: mintToken(privateKey, { kind: 'user', role: 'admin' }),
    customer: (id: string, email: string) => mintToken(privateKey, { kind: 'customer', sub: id, email }),
  };
}

export interface Shopper {
  id: string;
  email: string;
  token: string;
}

/** A registered customer (through customer-service, so customer.registered is published). */
export async function registerCustomer(tag: string): Promise<Shopper> {
  const email = `buyer-${tag}-${randomUUID().slice(0, 6)}@example.com`;
  const created = await call(serviceUrl('customer-service'), 'POST', '/customers', {
    body: { email, password: 'correct horse battery', name: `Buyer ${tag}` },
  });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  return { id: created.body.id, email, token: tokens().customer(created.body.id, email) };
}

/** An active product with stock, through the catalog and inventory services. */
export async function stockedProduct(tag: string, priceCents: number, onHand: number): Promise<{ id: string; name: string; sku: string }> {
  const { staff } = tokens();
  const unique = `${tag}-${randomUUID().slice(0, 8)}`;
  const brand = await call(serviceUrl('brand-service'), 'POST', '/brands', { token: staff, body: { name: `Brand ${unique}` } });
  const category = await call(serviceUrl('category-service'), 'POST', '/categories', {
    token: staff,
    body: { name: `Category ${unique}` },
  });
  expect([brand.status, category.status]).to.deep.equal([201, 201]);
  const product = await call(serviceUrl('product-service'), 'POST', '/products', {
    token: staff,
    body: { sku: `SKU-${unique}`, name: `Teapot ${unique}`, priceCents, brandId: brand.body.id, categoryId: category.body.id },
  });
  expect(product.status, JSON.stringify(product.body)).to.equal(201);
  const stock = await call(serviceUrl('inventory-service'), 'PUT', `/inventory/${product.body.id}`, { token: staff, body: { onHand } });
  expect(stock.status, JSON.stringify(stock.body)).to.equal(200);
  return { id: product.body.id, name: product.body.name, sku: product.body.sku };
}

export async function placeOrder(shopper: Shopper, items: { productId: string; quantity: number }[]): Promise<Reply['body']> {
  const order = await call(serviceUrl('order-service'), 'POST', '/orders', {
    token: shopper.token,
    body: { items, shippingAddress: { line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' } },
  });
  expect(order.status, JSON.stringify(order.body)).to.equal(201);
  return order.body;
}

export async function orderStatus(shopper: Shopper, orderId: string): Promise<string> {
  const order = await call(serviceUrl('order-service'), 'GET', `/orders/${orderId}`, { token: shopper.token });
  expect(order.status).to.equal(200);
  return order.body.status as string;
}

export interface StripeRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  params: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Stripe's form fields
  replayed: boolean;
}

/** The Stripe fake the test runner started (tools/fakes/stripe.fake.ts). */
export const stripeFake = {
  url: () => requiredEnv('MART_URL_FAKE_STRIPE'),
  async received(): Promise<StripeRequest[]> {
    return ((await (await fetch(`${stripeFake.url()}/__received`)).json()) as { requests: StripeRequest[] }).requests;
  },
  /** Has the fake sign an event about a PaymentIntent and POST it to payment-service's webhook. */
  async deliver(
    type: string,
    paymentIntentId: string,
    options: { eventId?: string; signature?: string } = {},
  ): Promise<{ event: { id: string }; delivery: Reply }> {
    const response = await fetch(`${stripeFake.url()}/__webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${serviceUrl('payment-service')}/payments/webhook`, type, paymentIntentId, ...options }),
    });
    expect(response.status).to.equal(200);
    return (await response.json()) as { event: { id: string }; delivery: Reply };
  },
  /** What Stripe.js does in the browser: confirm with the client secret and a payment method. */
  async confirmAsClient(paymentIntentId: string, clientSecret: string, paymentMethod: string): Promise<number> {
    const response = await fetch(`${stripeFake.url()}/v1/payment_intents/${paymentIntentId}/confirm`, {
      method: 'POST',
      headers: { authorization: 'Bearer pk_test_mart', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_secret: clientSecret, payment_method: paymentMethod }).toString(),
    });
    await response.body?.cancel();
    return response.status;
  },
};

export interface SentEmail {
  id: string;
  from: string;
  to: string;
  subject: string;
  body: string;
}

/** The Gmail fake the test runner started (tools/fakes/gmail.fake.ts). */
export const gmailFake = {
  async messages(to?: string): Promise<SentEmail[]> {
    const received = (await (await fetch(`${requiredEnv('MART_URL_FAKE_GMAIL')}/__received`)).json()) as { messages: SentEmail[] };
    return received.messages.filter((message) => to === undefined || message.to === to);
  },
};

/** Every `payment.status-changed` event on Kafka so far whose payment matches. */
export async function paymentEvents(paymentId: string): Promise<EventMessage<'payment.status-changed'>[]> {
  const definition = events['payment.status-changed'];
  const found: EventMessage<'payment.status-changed'>[] = [];
  await readTopic(definition.topic, (type, value) => {
    if (type !== 'payment.status-changed') return;
    const event = definition.type.decode(value);
    if (event.payment?.id === paymentId) found.push(event);
  });
  return found;
}

/** Reads a topic from its start to its current end, handing each message's type and value to `visit`. */
export async function readTopic(
  topic: string,
  visit: (type: string, value: Buffer, message: { key: Buffer | null; headers: Record<string, Buffer> }) => void,
): Promise<void> {
  const kafka = new Kafka({
    clientId: `e2e-${randomUUID().slice(0, 8)}`,
    brokers: requiredEnv('KAFKA_BROKERS').split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, Number(high)]));
  await admin.disconnect();
  const remaining = new Set([...ends].filter(([, high]) => high > 0).map(([partition]) => partition));
  if (remaining.size === 0) return;
  const consumer = kafka.consumer({ groupId: `e2e-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`could not read ${topic} to its end`)), 15_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const messageHeaders = Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([name, value]) => [name, Buffer.from(String(value))]),
          );
          const type = message.headers?.[headers.type]?.toString() ?? '';
          visit(type, message.value ?? Buffer.alloc(0), { key: message.key, headers: messageHeaders });
          if (Number(message.offset) + 1 >= (ends.get(partition) ?? 0)) remaining.delete(partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}
