import { expect } from 'chai';
import { eventually, serviceUrl } from '@mart/common/testing';
import { call, gmailFake, stockedProduct, tokens } from './checkout.fixtures.ts';

// Issue 5's journey, through every service over HTTP, with the real Stripe and Gmail SDKs
// pointed at the fakes: register → log in → browse → order → pay → PAID → stock committed →
// exactly one paid email.
describe('checkout journey end to end', function () {
  this.timeout(60_000);
  const { staff } = tokens();

  it('takes a new customer from registration to a paid order, committed stock and one email', async () => {
    const product = await stockedProduct('journey', 2500, 5);

    const email = `journey-${product.sku.toLowerCase()}@example.com`;
    const password = 'a long enough passphrase';
    const registered = await call(serviceUrl('customer-service'), 'POST', '/customers', { body: { email, password, name: 'Journey' } });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    const login = await call(serviceUrl('auth-service'), 'POST', '/auth/login', { body: { email, password } });
    expect(login.status).to.equal(200);
    const token = login.body.accessToken as string;

    const word = product.name.split(' ')[1]!;
    const found = await call(serviceUrl('product-service'), 'GET', `/products?q=${encodeURIComponent(word)}`);
    expect(found.body.items.map((p: { id: string }) => p.id)).to.include(product.id);
    expect(found.body.items.find((p: { id: string }) => p.id === product.id).available).to.equal(5);

    const order = await call(serviceUrl('order-service'), 'POST', '/orders', {
      token,
      body: {
        items: [{ productId: product.id, quantity: 2 }],
        shippingAddress: { line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
      },
    });
    expect(order.status, JSON.stringify(order.body)).to.equal(201);
    expect(order.body).to.include({ status: 'PENDING_PAYMENT', totalCents: 5000, currency: 'USD' });
    const stock = () => call(serviceUrl('inventory-service'), 'GET', `/inventory/${product.id}`, { token: staff });
    expect((await stock()).body).to.include({ onHand: 5, reserved: 2, available: 3 });

    const payment = await call(serviceUrl('payment-service'), 'POST', '/payments', {
      token,
      body: { orderId: order.body.id, paymentMethod: 'pm_card_visa' },
    });
    expect(payment.status, JSON.stringify(payment.body)).to.equal(201);
    expect(payment.body).to.include({ status: 'SUCCEEDED', amountCents: 5000 });

    await eventually(async () => {
      const current = await call(serviceUrl('order-service'), 'GET', `/orders/${order.body.id}`, { token });
      return current.body.status === 'PAID' ? true : undefined;
    }, 'the order to become PAID');
    // The reservation is committed: the units leave both on-hand and reserved.
    await eventually(async () => {
      const record = (await stock()).body;
      return record.onHand === 3 && record.reserved === 0 ? record : undefined;
    }, 'the stock to be committed');
    expect((await stock()).body.available).to.equal(3);

    const paidEmail = await eventually(async () => {
      const sent = (await gmailFake.messages(email)).filter((m) => m.subject.startsWith('Payment received'));
      return sent.length > 0 ? sent : undefined;
    }, 'the paid email');
    expect(paidEmail).to.have.length(1);
    // Every send is recorded as an attempt on the email's one row: once the row says SENT, a
    // duplicate send would show as a second attempt (and a second message at the fake).
    const recorded = await eventually(async () => {
      const read = await call(serviceUrl('notification-service'), 'GET', `/notifications?to=${encodeURIComponent(email)}&type=order.paid`, {
        token: staff,
      });
      return read.body.items[0]?.status === 'SENT' ? read : undefined;
    }, 'the paid email recorded as sent');
    expect(recorded.body.total).to.equal(1);
    expect(recorded.body.items[0]).to.include({ status: 'SENT', provider: 'gmail', to: email, attempts: 1 });
    expect((await gmailFake.messages(email)).filter((m) => m.subject.startsWith('Payment received'))).to.have.length(1);
  });
});
