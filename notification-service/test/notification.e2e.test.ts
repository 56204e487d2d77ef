import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import { eventually, requiredEnv, serviceUrl } from '@mart/common/testing';
import { events, headers } from '@mart/proto';
import {
  call,
  gmailFake,
  placeOrder,
  readTopic,
  registerCustomer,
  stockedProduct,
  tokens,
  type SentEmail,
  type Shopper,
} from '../../payment-service/test/checkout.fixtures.ts';

// notification-service with the real googleapis client pointed at tools/fakes/gmail.fake.ts,
// reacting to the events of the running stack (customer-service, order-service, payment-service).
describe('notifications end to end (Gmail fake)', function () {
  this.timeout(60_000);
  const base = serviceUrl('notification-service');
  const { staff, admin } = tokens();
  let product: { id: string; name: string; sku: string };
  let shopper: Shopper;

  before(async () => {
    product = await stockedProduct('mail', 1250, 50);
    shopper = await registerCustomer('mail');
  });

  const emailTo = (to: string, subjectPart: string) =>
    eventually(async () => {
      const found = (await gmailFake.messages(to)).filter((message) => message.subject.includes(subjectPart));
      return found.length > 0 ? found : undefined;
    }, `an email to ${to} about "${subjectPart}"`);
  const orderNumber = (orderId: string) => orderId.slice(0, 8).toUpperCase();

  /** Pays an order and waits for its paid email; then refunds it, whose email proves every earlier event on the order was handled. */
  async function payThenRefund(orderId: string, afterPaid: () => Promise<void> = async () => {}): Promise<SentEmail[]> {
    const paid = await call(serviceUrl('payment-service'), 'POST', '/payments', {
      token: shopper.token,
      body: { orderId, paymentMethod: 'pm_card_visa' },
    });
    expect(paid.body.status).to.equal('SUCCEEDED');
    const paidEmails = await emailTo(shopper.email, `Payment received for your order ${orderNumber(orderId)}`);
    await afterPaid();
    const refunded = await call(serviceUrl('payment-service'), 'POST', `/payments/${paid.body.id}/refund`, { token: admin });
    expect(refunded.body.status).to.equal('REFUNDED');
    // Events of one order share a partition and are handled in order: once the refund email is
    // out, any duplicate of the paid email would have been sent already.
    await emailTo(shopper.email, `Your order ${orderNumber(orderId)} has been refunded`);
    expect(paidEmails.length).to.be.greaterThan(0);
    return (await gmailFake.messages(shopper.email)).filter((message) =>
      message.subject.includes(`Payment received for your order ${orderNumber(orderId)}`),
    );
  }

  it('emails the customer exactly once through Gmail when their order is paid, and lists the email', async () => {
    const order = await placeOrder(shopper, [{ productId: product.id, quantity: 3 }]);
    const paidEmails = await payThenRefund(order.id);
    expect(paidEmails).to.have.length(1);
    const email = paidEmails[0]!;
    expect(email.from).to.equal('Mart <shop@mart.test>');
    expect(email.body).to.include(order.id);
    expect(email.body).to.include(`3 × ${product.name} (${product.sku}) at $12.50 = $37.50`);
    expect(email.body).to.include('Total: $37.50');

    const listed = await call(base, 'GET', `/notifications?to=${encodeURIComponent(shopper.email)}&type=order.paid`, { token: staff });
    expect(listed.status).to.equal(200);
    const record = listed.body.items.find((item: { subject: string }) => item.subject === email.subject);
    expect(record).to.include({ to: shopper.email, status: 'SENT', attempts: 1, provider: 'gmail', providerMessageId: email.id });
    const sent = await call(base, 'GET', `/notifications?to=${encodeURIComponent(shopper.email)}&status=SENT&pageSize=100`, {
      token: staff,
    });
    expect(sent.body.items.map((item: { type: string }) => item.type)).to.include.members([
      'customer.welcome',
      'order.placed',
      'order.paid',
      'order.refunded',
    ]);
  });

  it('sends one email per event even when the event is delivered again', async () => {
    const order = await placeOrder(shopper, [{ productId: product.id, quantity: 1 }]);
    const paidEmails = await payThenRefund(order.id, async () => {
      // The paid email's event again, twice, as the outbox relay would publish it after a crash.
      const definition = events['notification.queued'];
      const copies: { key: Buffer | null; value: Buffer; headers: Record<string, Buffer> }[] = [];
      await readTopic(definition.topic, (type, value, message) => {
        if (type !== 'notification.queued') return;
        const { notification } = definition.type.decode(value);
        if (notification?.type === 'order.paid' && notification.subject?.endsWith(orderNumber(order.id)))
          copies.push({ key: message.key, value, headers: message.headers });
      });
      expect(copies).to.have.length(1);
      expect(copies[0]!.headers[headers.eventId]).to.not.equal(undefined);
      const kafka = new Kafka({
        clientId: `e2e-${randomUUID().slice(0, 8)}`,
        brokers: requiredEnv('KAFKA_BROKERS').split(','),
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: definition.topic, messages: [copies[0]!, copies[0]!] });
      await producer.disconnect();
    });
    expect(paidEmails).to.have.length(1);
  });

  it('greets a new customer and confirms a placed order', async () => {
    const newcomer = await registerCustomer('hello');
    const [welcome] = await emailTo(newcomer.email, 'Welcome to Mart');
    expect(welcome!.body).to.include(newcomer.email);
    const order = await placeOrder(newcomer, [{ productId: product.id, quantity: 2 }]);
    const [placed] = await emailTo(newcomer.email, `We received your order ${orderNumber(order.id)}`);
    expect(placed!.body).to.include('Total: $25.00');
  });

  it('lists emails for staff only, with filters validated', async () => {
    expect((await call(base, 'GET', '/notifications', { token: shopper.token })).status).to.equal(403);
    expect((await call(base, 'GET', '/notifications')).status).to.equal(401);
    const bad = await call(base, 'GET', '/notifications?status=LOST', { token: staff });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details[0].path).to.equal('status');
    const welcomes = await call(base, 'GET', `/notifications?type=customer.welcome&to=${encodeURIComponent(shopper.email)}`, {
      token: staff,
    });
    expect(welcomes.body.total).to.equal(1);
    expect(welcomes.body.items[0]).to.include({ type: 'customer.welcome', subject: 'Welcome to Mart', status: 'SENT' });
  });
});
