import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { eventually, serviceUrl } from '@mart/common/testing';
import { mart } from '@mart/proto';
import {
  call,
  orderStatus,
  paymentEvents,
  placeOrder,
  registerCustomer,
  stockedProduct,
  stripeFake,
  tokens,
  type Shopper,
} from './checkout.fixtures.ts';
import { Shop, address } from '../../order-service/test/shop.fixtures.ts';

// payment-service with the real Stripe SDK pointed at tools/fakes/stripe.fake.ts; orders from
// order-service. db-service moves an order with its payment in one transaction (PAID, REFUNDED),
// so the order is read in its new state as soon as the payment call has answered.
describe('/payments end to end (Stripe fake)', function () {
  this.timeout(60_000);
  const base = serviceUrl('payment-service');
  const { staff, admin } = tokens();
  let product: { id: string };
  let shopper: Shopper;

  before(async () => {
    product = await stockedProduct('pay', 1999, 100);
    shopper = await registerCustomer('pay');
  });

  const pay = (orderId: string, paymentMethod?: string, token = shopper.token) =>
    call(base, 'POST', '/payments', { token, body: { orderId, ...(paymentMethod ? { paymentMethod } : {}) } });
  const stock = async (productId: string) =>
    (await call(serviceUrl('inventory-service'), 'GET', `/inventory/${productId}`, { token: staff })).body;
  const becomes = (orderId: string, status: string) =>
    eventually(async () => ((await orderStatus(shopper, orderId)) === status ? true : undefined), `order ${orderId} to be ${status}`);

  it('pays with pm_card_visa: SUCCEEDED, the order becomes PAID, Stripe got the amount and an idempotency key', async () => {
    const order = await placeOrder(shopper, [{ productId: product.id, quantity: 2 }]);
    expect(order.totalCents).to.equal(3998);

    const paid = await pay(order.id, 'pm_card_visa');
    expect(paid.status, JSON.stringify(paid.body)).to.equal(201);
    expect(paid.body).to.include({
      orderId: order.id,
      customerId: shopper.id,
      amountCents: 3998,
      currency: 'USD',
      provider: 'stripe',
      status: 'SUCCEEDED',
    });
    await becomes(order.id, 'PAID');

    const created = (await stripeFake.received()).filter(
      (r) => r.path === '/v1/payment_intents' && r.params.metadata?.paymentId === paid.body.id,
    );
    expect(created).to.have.length(1);
    expect(created[0]!.params).to.deep.include({ amount: '3998', currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' });
    expect(created[0]!.params.metadata).to.deep.equal({ orderId: order.id, paymentId: paid.body.id });
    expect(created[0]!.idempotencyKey).to.equal(`mart-payment-${paid.body.id}`);

    const again = await pay(order.id, 'pm_card_visa');
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('conflict');
  });

  it('declines pm_card_chargeDeclined: FAILED, the order stays payable, and a second attempt succeeds', async () => {
    const order = await placeOrder(shopper, [{ productId: product.id, quantity: 1 }]);
    const declined = await pay(order.id, 'pm_card_chargeDeclined');
    expect(declined.status, JSON.stringify(declined.body)).to.equal(201);
    expect(declined.body).to.include({ status: 'FAILED', amountCents: 1999 });
    expect(declined.body.failureReason).to.match(/declined/i);
    expect(await orderStatus(shopper, order.id)).to.equal('PENDING_PAYMENT');

    const retried = await pay(order.id, 'pm_card_visa');
    expect(retried.status, JSON.stringify(retried.body)).to.equal(201);
    expect(retried.body.status).to.equal('SUCCEEDED');
    expect(retried.body.id).to.not.equal(declined.body.id);
    await becomes(order.id, 'PAID');

    const listed = await call(base, 'GET', `/payments?orderId=${order.id}`, { token: shopper.token });
    expect(listed.status).to.equal(200);
    expect(listed.body.items.map((p: { status: string }) => p.status).sort()).to.deep.equal(['FAILED', 'SUCCEEDED']);
    const keys = (await stripeFake.received()).filter((r) => r.params.metadata?.orderId === order.id).map((r) => r.idempotencyKey);
    expect(keys.sort()).to.deep.equal([`mart-payment-${declined.body.id}`, `mart-payment-${retried.body.id}`].sort());
  });

  it('settles a client-confirmed payment from the webhook, once however often the event is delivered', async () => {
    const order = await placeOrder(shopper, [{ productId: product.id, quantity: 3 }]);
    const open = await pay(order.id);
    expect(open.status, JSON.stringify(open.body)).to.equal(201);
    expect(open.body.status).to.equal('REQUIRES_PAYMENT');
    expect(open.body.clientSecret).to.be.a('string');
    const piId = open.body.providerPaymentId as string;
    expect(piId).to.match(/^pi_/);
    const created = (await stripeFake.received()).filter((r) => r.params.metadata?.paymentId === open.body.id);
    expect(created.map((r) => [r.params.amount, r.params.confirm])).to.deep.equal([['5997', undefined]]);
    expect(await stripeFake.confirmAsClient(piId, open.body.clientSecret, 'pm_card_visa')).to.equal(200);

    const forged = await stripeFake.deliver('payment_intent.succeeded', piId, { signature: 't=1700000000,v1=0123456789abcdef' });
    expect(forged.delivery.status).to.equal(400);
    expect(forged.delivery.body.error.code).to.equal('bad_request');
    const unsigned = await fetch(`${base}/payments/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unsigned.status).to.equal(400);
    expect((await call(base, 'GET', `/payments/${open.body.id}`, { token: staff })).body.status).to.equal('REQUIRES_PAYMENT');

    // Stripe may send two events with the same outcome at once (e.g. a retry racing the original).
    const [first, racing] = await Promise.all([
      stripeFake.deliver('payment_intent.succeeded', piId),
      stripeFake.deliver('payment_intent.succeeded', piId),
    ]);
    expect(first.delivery).to.deep.equal({ status: 200, body: { received: true, handled: true } });
    expect(racing.delivery.status).to.equal(200);
    const repeat = await stripeFake.deliver('payment_intent.succeeded', piId, { eventId: first.event.id });
    expect(repeat.delivery.status).to.equal(200);
    await becomes(order.id, 'PAID');
    const settled = (await call(base, 'GET', `/payments/${open.body.id}`, { token: shopper.token })).body;
    expect(settled.status).to.equal('SUCCEEDED');

    // A later, different event with the same outcome (Stripe retries with new ids too) changes nothing either.
    await stripeFake.deliver('payment_intent.succeeded', piId);
    expect((await call(base, 'GET', `/payments/${open.body.id}`, { token: shopper.token })).body).to.deep.equal(settled);
    const changes = await paymentEvents(open.body.id);
    expect(changes.map((e) => e.payment?.status)).to.deep.equal([mart.payment.PaymentStatus.PAYMENT_STATUS_SUCCEEDED]);
  });

  it('records the synchronous confirmation and its webhook as one status change', async () => {
    const order = await placeOrder(shopper, [{ productId: product.id, quantity: 1 }]);
    const paid = await pay(order.id, 'pm_card_visa');
    expect(paid.body.status).to.equal('SUCCEEDED');
    await becomes(order.id, 'PAID');
    const webhook = await stripeFake.deliver('payment_intent.succeeded', paid.body.providerPaymentId);
    expect(webhook.delivery.status).to.equal(200);
    const changes = await paymentEvents(paid.body.id);
    expect(changes).to.have.length(1);
    expect(changes[0]!.payment).to.include({ orderId: order.id, customerId: shopper.id });
    expect(changes[0]!.from).to.equal(mart.payment.PaymentStatus.PAYMENT_STATUS_PROCESSING);
  });

  it('refunds a succeeded payment (admin only): REFUNDED at Stripe and in Mart, the order REFUNDED and its stock back', async () => {
    const item = await stockedProduct('refund', 1999, 5);
    const order = await placeOrder(shopper, [{ productId: item.id, quantity: 1 }]);
    const paid = await pay(order.id, 'pm_card_visa');
    expect(await orderStatus(shopper, order.id)).to.equal('PAID');
    expect(await stock(item.id)).to.include({ onHand: 4, reserved: 0 });

    expect((await call(base, 'POST', `/payments/${paid.body.id}/refund`, { token: staff })).status).to.equal(403);
    expect((await call(base, 'POST', `/payments/${paid.body.id}/refund`, { token: shopper.token })).status).to.equal(403);
    const refunded = await call(base, 'POST', `/payments/${paid.body.id}/refund`, { token: admin });
    expect(refunded.status, JSON.stringify(refunded.body)).to.equal(200);
    expect(refunded.body).to.include({ status: 'REFUNDED', refundedCents: 1999 });
    expect(refunded.body.refunds).to.have.length(1);
    const [refund] = refunded.body.refunds;
    expect(refund).to.include({ amountCents: 1999, status: 'SUCCEEDED', reason: 'refund requested by staff' });
    expect(refund.providerRefundId).to.match(/^re_/);
    // The order and its stock moved in the same transaction as the refund.
    expect(await orderStatus(shopper, order.id)).to.equal('REFUNDED');
    expect(await stock(item.id)).to.include({ onHand: 5, reserved: 0 });

    // Nothing is left to give back.
    const again = await call(base, 'POST', `/payments/${paid.body.id}/refund`, { token: admin });
    expect(again.status).to.equal(409);
    const refunds = (await stripeFake.received()).filter(
      (r) => r.path === '/v1/refunds' && r.params.payment_intent === paid.body.providerPaymentId,
    );
    expect(refunds).to.have.length(1);
    expect(refunds[0]!.idempotencyKey).to.equal(`mart-refund-${refund.id}`);
    expect(refunds[0]!.params.amount).to.equal('1999');

    // Stripe's own notice of the refund arrives too, and changes nothing more.
    expect((await stripeFake.deliver('charge.refunded', paid.body.providerPaymentId)).delivery.status).to.equal(200);
    const statuses = (await paymentEvents(paid.body.id)).map((e) => e.payment?.status);
    expect(statuses).to.deep.equal([
      mart.payment.PaymentStatus.PAYMENT_STATUS_SUCCEEDED,
      mart.payment.PaymentStatus.PAYMENT_STATUS_REFUNDED,
    ]);
    expect(await stock(item.id)).to.include({ onHand: 5, reserved: 0 });
  });

  /** A payment the customer confirms with Stripe.js after the order stopped being payable; its webhook comes last. */
  async function lateSuccess(orderId: string, makeUnpayable: () => Promise<void>) {
    const open = await pay(orderId);
    expect(open.status, JSON.stringify(open.body)).to.equal(201);
    await makeUnpayable();
    expect(await stripeFake.confirmAsClient(open.body.providerPaymentId, open.body.clientSecret, 'pm_card_visa')).to.equal(200);
    const webhook = await stripeFake.deliver('payment_intent.succeeded', open.body.providerPaymentId);
    expect(webhook.delivery).to.deep.equal({ status: 200, body: { received: true, handled: true } });
    // payment-service settles the refund db-service asked for, through the refund-requested event.
    return eventually(async () => {
      const read = (await call(base, 'GET', `/payments/${open.body.id}`, { token: staff })).body;
      return read.status === 'REFUNDED' ? read : undefined;
    }, 'the late payment to be refunded');
  }

  it('refunds a payment that succeeds after its order was cancelled; the order stays CANCELLED and its stock free', async () => {
    const item = await stockedProduct('late', 1999, 3);
    const order = await placeOrder(shopper, [{ productId: item.id, quantity: 2 }]);
    const payment = await lateSuccess(order.id, async () => {
      const cancelled = await call(serviceUrl('order-service'), 'POST', `/orders/${order.id}/cancel`, { token: shopper.token });
      expect(cancelled.body.status).to.equal('CANCELLED');
    });
    expect(payment).to.include({ refundedCents: 3998 });
    expect(payment.refunds).to.have.length(1);
    expect(payment.refunds[0]).to.include({ status: 'SUCCEEDED', amountCents: 3998, actorId: null });
    expect(payment.refunds[0].reason).to.equal(`order ${order.id} was CANCELLED when this payment succeeded`);
    const refunds = (await stripeFake.received()).filter(
      (r) => r.path === '/v1/refunds' && r.params.payment_intent === payment.providerPaymentId,
    );
    expect(refunds.map((r) => r.idempotencyKey)).to.deep.equal([`mart-refund-${payment.refunds[0].id}`]);
    expect(await orderStatus(shopper, order.id)).to.equal('CANCELLED');
    expect(await stock(item.id)).to.include({ onHand: 3, reserved: 0 });
  });

  it('refunds a payment that succeeds after its order expired', async () => {
    const item = await stockedProduct('expired', 1250, 2);
    const shop = new Shop('payment-e2e-expiry');
    await shop.rpc.start();
    try {
      // An order with a three-second hold, placed the way order-service does; paying starts within it.
      const order = await shop.rpc.call('order.place', {
        id: randomUUID(),
        customerId: shopper.id,
        lines: [{ productId: item.id, quantity: 1 }],
        shippingAddress: address,
        ttlSeconds: 3,
      });
      const payment = await lateSuccess(order.id, async () => {
        await eventually(async () => ((await orderStatus(shopper, order.id)) === 'CANCELLED' ? true : undefined), 'the order to expire');
      });
      expect(payment.refunds[0]).to.include({
        status: 'SUCCEEDED',
        amountCents: 1250,
        reason: `order ${order.id} was CANCELLED when this payment succeeded`,
      });
      expect(await stock(item.id)).to.include({ onHand: 2, reserved: 0 });
    } finally {
      await shop.rpc.stop();
    }
  });

  it('shows a payment to its owner and staff only, and refuses to refund an unpaid one', async () => {
    const order = await placeOrder(shopper, [{ productId: product.id, quantity: 1 }]);
    const open = await pay(order.id);
    const stranger = await registerCustomer('stranger');
    expect((await call(base, 'GET', `/payments/${open.body.id}`, { token: stranger.token })).status).to.equal(404);
    expect((await call(base, 'GET', `/payments?orderId=${order.id}`, { token: stranger.token })).body.total).to.equal(0);
    expect((await pay(order.id, 'pm_card_visa', stranger.token)).status).to.equal(404);
    expect((await call(base, 'GET', `/payments/${open.body.id}`, { token: staff })).status).to.equal(200);
    expect((await call(base, 'GET', `/payments/${open.body.id}`)).status).to.equal(401);
    const refund = await call(base, 'POST', `/payments/${open.body.id}/refund`, { token: admin });
    expect(refund.status).to.equal(409);
    expect(refund.body.error.code).to.equal('invalid_state');
    const bad = await call(base, 'POST', '/payments', { token: shopper.token, body: { orderId: 'nope', paymentMethod: 'visa' } });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal(['orderId', 'paymentMethod']);
  });
});
