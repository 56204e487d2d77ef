import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { canMoveOrder, orderStatuses, requestedOrderStatuses, type OrderStatusName } from '@mart/common/domain/order';
import { eventually, mintToken, serviceUrl } from '@mart/common/testing';
import { orderStatus } from '@mart/proto/enums';
import { Shop, address, call, type TestCustomer } from './shop.fixtures.ts';

// Drives the running order-service over HTTP (HTTP → Kafka → db-service → PostgreSQL), pays through
// payment-service, and reads stock through inventory-service. db-service moves an order's stock in
// the transaction that moves the order, so the stock is read in its new state at once.
describe('/orders end to end', function () {
  this.timeout(40_000);
  const urls = { orders: serviceUrl('order-service'), inventory: serviceUrl('inventory-service'), payments: serviceUrl('payment-service') };
  const shop = new Shop('order-e2e');
  let alice: TestCustomer;
  let bob: TestCustomer;

  const orders = (method: string, path: string, options?: Parameters<typeof call>[3]) => call(urls.orders, method, path, options);
  const place = (customer: TestCustomer, items: { productId: string; quantity: number }[], key?: string) =>
    orders('POST', '/orders', {
      token: customer.token,
      body: { items, shippingAddress: address },
      ...(key ? { headers: { 'Idempotency-Key': key } } : {}),
    });
  async function stock(productId: string): Promise<{ onHand: number; reserved: number; available: number }> {
    const result = await call(urls.inventory, 'GET', `/inventory/${productId}`, { token: shop.staff });
    expect(result.status, JSON.stringify(result.body)).to.equal(200);
    return result.body;
  }
  const stockIs = async (productId: string, expected: { onHand: number; reserved: number }) =>
    expect(await stock(productId)).to.include(expected);
  const admin = () => mintToken(shop.keys.privateKey, { kind: 'user', role: 'admin' });
  /** Pays through payment-service (the simulated provider, or the Stripe fake): the answer comes with the order PAID. */
  async function markPaid(orderId: string, customer: TestCustomer = alice): Promise<{ id: string }> {
    const paid = await call(urls.payments, 'POST', '/payments', {
      token: customer.token,
      body: { orderId, paymentMethod: 'pm_card_visa' },
    });
    expect(paid.status, JSON.stringify(paid.body)).to.equal(201);
    return paid.body;
  }
  async function refund(paymentId: string): Promise<void> {
    const refunded = await call(urls.payments, 'POST', `/payments/${paymentId}/refund`, { token: admin() });
    expect(refunded.status, JSON.stringify(refunded.body)).to.equal(200);
  }
  const paths = (body: { error: { details: { path: string }[] } }) => body.error.details.map((d) => d.path);

  before(async () => {
    await shop.open();
    [alice, bob] = await Promise.all([shop.customer(), shop.customer()]);
  });

  after(() => shop.close());

  it('places an order at catalog prices with a server-computed total, and reserves its stock', async () => {
    const [pen, ink] = await Promise.all([shop.product({ priceCents: 1999, stock: 10 }), shop.product({ priceCents: 250, stock: 5 })]);
    const result = await place(alice, [
      { productId: pen.id, quantity: 2 },
      { productId: ink.id, quantity: 3 },
    ]);
    expect(result.status, JSON.stringify(result.body)).to.equal(201);
    const order = result.body;
    expect(order).to.include({ customerId: alice.id, status: 'PENDING_PAYMENT', totalCents: 2 * 1999 + 3 * 250, currency: 'USD' });
    expect(order.id).to.match(/^[0-9a-f-]{36}$/);
    expect(order.items).to.have.deep.members([
      { productId: pen.id, quantity: 2, unitPriceCents: 1999, sku: pen.sku, name: pen.name },
      { productId: ink.id, quantity: 3, unitPriceCents: 250, sku: ink.sku, name: ink.name },
    ]);
    expect(order.shippingAddress).to.deep.equal(address);
    expect(new Date(order.createdAt).toISOString()).to.equal(order.createdAt);
    // The default ORDER_TTL_SECONDS: unpaid orders hold their stock for 15 minutes.
    expect(Date.parse(order.expiresAt) - Date.parse(order.createdAt)).to.equal(900_000);

    expect(await stock(pen.id)).to.include({ onHand: 10, reserved: 2, available: 8 });
    expect(await stock(ink.id)).to.include({ onHand: 5, reserved: 3, available: 2 });
    expect((await orders('GET', `/orders/${order.id}`, { token: alice.token })).body).to.deep.equal(order);
  });

  it('never takes a price from the client', async () => {
    const pen = await shop.product({ priceCents: 500 });
    const result = await orders('POST', '/orders', {
      token: alice.token,
      body: { items: [{ productId: pen.id, quantity: 1, unitPriceCents: 1 }], shippingAddress: address },
    });
    expect(result.status).to.equal(400);
    expect(paths(result.body)).to.deep.equal(['items.0.unitPriceCents']);
  });

  it('refuses unknown and inactive products with 400 naming the line, reserving nothing', async () => {
    const [real, hidden] = await Promise.all([shop.product({ stock: 4 }), shop.product({ active: false })]);
    const result = await place(alice, [
      { productId: real.id, quantity: 1 },
      { productId: randomUUID(), quantity: 1 },
      { productId: hidden.id, quantity: 1 },
    ]);
    expect(result.status).to.equal(400);
    expect(result.body.error.code).to.equal('validation_failed');
    expect(paths(result.body)).to.deep.equal(['items.1.productId', 'items.2.productId']);
    expect(await stock(real.id)).to.include({ reserved: 0, available: 4 });
  });

  it('refuses an order it cannot fill with 409 insufficient_stock naming the product, reserving nothing', async () => {
    const [plenty, scarce, unstocked] = await Promise.all([
      shop.product({ stock: 10 }),
      shop.product({ stock: 2 }),
      shop.product({ stock: null }),
    ]);
    const result = await place(alice, [
      { productId: plenty.id, quantity: 5 },
      { productId: scarce.id, quantity: 3 },
      { productId: unstocked.id, quantity: 1 },
    ]);
    expect(result.status).to.equal(409);
    expect(result.body.error.code).to.equal('insufficient_stock');
    expect(result.body.error.details).to.deep.equal([
      { path: 'items.1.productId', message: scarce.id },
      { path: 'items.2.productId', message: unstocked.id },
    ]);
    expect(await stock(plenty.id)).to.include({ reserved: 0, available: 10 });
    expect(await stock(scarce.id)).to.include({ reserved: 0, available: 2 });
  });

  it('rejects malformed orders with 400 naming each field', async () => {
    const pen = await shop.product();
    const duplicate = await place(alice, [
      { productId: pen.id, quantity: 1 },
      { productId: pen.id, quantity: 2 },
    ]);
    expect(duplicate.status).to.equal(400);
    expect(paths(duplicate.body)).to.deep.equal(['items.1.productId']);
    const bad = await orders('POST', '/orders', {
      token: alice.token,
      body: {
        items: [
          { productId: pen.id, quantity: 0 },
          { productId: 'nope', quantity: 1001 },
        ],
        shippingAddress: { city: 'X' },
      },
    });
    expect(bad.status).to.equal(400);
    expect(paths(bad.body)).to.have.members([
      'items.0.quantity',
      'items.1.productId',
      'items.1.quantity',
      'shippingAddress.line1',
      'shippingAddress.postalCode',
      'shippingAddress.country',
    ]);
    const empty = await place(alice, []);
    expect(paths(empty.body)).to.deep.equal(['items']);
    const longKey = await place(alice, [{ productId: pen.id, quantity: 1 }], 'k'.repeat(201));
    expect(longKey.status).to.equal(400);
    expect(paths(longKey.body)).to.deep.equal(['Idempotency-Key']);
  });

  it('lets only customers place orders', async () => {
    const pen = await shop.product();
    const body = { items: [{ productId: pen.id, quantity: 1 }], shippingAddress: address };
    expect((await orders('POST', '/orders', { body })).status).to.equal(401);
    expect((await orders('POST', '/orders', { token: shop.staff, body })).status).to.equal(403);
  });

  it('makes one order of a request repeated with the same Idempotency-Key, and reserves once', async () => {
    const pen = await shop.product({ stock: 10 });
    const key = `checkout-${randomUUID()}`;
    const first = await place(alice, [{ productId: pen.id, quantity: 4 }], key);
    const again = await place(alice, [{ productId: pen.id, quantity: 4 }], key);
    expect(first.status).to.equal(201);
    expect(again.status).to.equal(201);
    expect(again.body).to.deep.equal(first.body);
    expect(await stock(pen.id)).to.include({ reserved: 4, available: 6 });

    // The key names one request: reusing it for another order is a client bug, not a new order.
    const changed = await place(alice, [{ productId: pen.id, quantity: 1 }], key);
    expect(changed.status).to.equal(409);
    expect(changed.body.error.code).to.equal('conflict');
    // Keys are per customer: Bob's request with the same key is his own order.
    const bobs = await place(bob, [{ productId: pen.id, quantity: 1 }], key);
    expect(bobs.status).to.equal(201);
    expect(bobs.body.id).not.to.equal(first.body.id);
    expect(await stock(pen.id)).to.include({ reserved: 5, available: 5 });
  });

  it('makes one order of concurrent requests with the same Idempotency-Key', async () => {
    const pen = await shop.product({ stock: 10 });
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 5 }, () => place(alice, [{ productId: pen.id, quantity: 2 }], key)));
    expect(results.map((r) => r.status)).to.deep.equal([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).to.equal(1);
    expect(await stock(pen.id)).to.include({ reserved: 2, available: 8 });
  });

  it('never oversells: 50 concurrent orders for 10 units give exactly 10 orders', async () => {
    const pen = await shop.product({ stock: 10 });
    const buyers = await Promise.all(Array.from({ length: 5 }, () => shop.customer()));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => place(buyers[i % buyers.length]!, [{ productId: pen.id, quantity: 1 }])),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).to.have.length(10);
    expect(statuses.filter((s) => s === 409)).to.have.length(40);
    for (const refused of results.filter((r) => r.status === 409)) {
      expect(refused.body.error).to.deep.include({ code: 'insufficient_stock', details: [{ path: 'items.0.productId', message: pen.id }] });
    }
    expect(await stock(pen.id)).to.include({ onHand: 10, reserved: 10, available: 0 });
  });

  it('lets the customer cancel an unpaid order, which releases its stock', async () => {
    const pen = await shop.product({ stock: 6 });
    const order = (await place(alice, [{ productId: pen.id, quantity: 4 }])).body;
    expect(await stock(pen.id)).to.include({ reserved: 4 });
    const cancelled = await orders('POST', `/orders/${order.id}/cancel`, { token: alice.token });
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body).to.include({ id: order.id, status: 'CANCELLED' });
    await stockIs(pen.id, { onHand: 6, reserved: 0 });
    // Cancelling again is a no-op, not an error, and releases nothing twice.
    expect((await orders('POST', `/orders/${order.id}/cancel`, { token: alice.token })).body.status).to.equal('CANCELLED');
    expect(await stock(pen.id)).to.include({ onHand: 6, reserved: 0, available: 6 });
  });

  it('cancels unpaid orders when they expire and releases their stock', async () => {
    const pen = await shop.product({ stock: 5 });
    // order.place with a one-second hold: the stack's own ORDER_TTL_SECONDS stays at its default.
    const order = await shop.rpc.call('order.place', {
      id: randomUUID(),
      customerId: alice.id,
      lines: [{ productId: pen.id, quantity: 3 }],
      shippingAddress: address,
      ttlSeconds: 1,
    });
    expect(await stock(pen.id)).to.include({ reserved: 3 });
    const expired = await eventually(async () => {
      const read = await orders('GET', `/orders/${order.id}`, { token: alice.token });
      expect(read.body.status).to.equal('CANCELLED');
      return read.body;
    }, 'the order to expire');
    expect(Date.parse(expired.updatedAt)).to.be.at.least(Date.parse(expired.expiresAt));
    await stockIs(pen.id, { onHand: 5, reserved: 0 });
  });

  it("hides one customer's orders from another (404) and lists each customer's own, newest first", async () => {
    const pen = await shop.product();
    const carol = await shop.customer();
    const first = (await place(carol, [{ productId: pen.id, quantity: 1 }])).body;
    const second = (await place(carol, [{ productId: pen.id, quantity: 2 }])).body;

    const peek = await orders('GET', `/orders/${first.id}`, { token: bob.token });
    expect(peek.status).to.equal(404);
    expect(peek.body.error.code).to.equal('not_found');
    expect((await orders('POST', `/orders/${first.id}/cancel`, { token: bob.token })).status).to.equal(404);
    expect((await orders('GET', `/orders/${first.id}`, { token: carol.token })).body.status).to.equal('PENDING_PAYMENT');

    const own = await orders('GET', '/orders', { token: carol.token });
    expect(own.body).to.include({ page: 1, pageSize: 20, total: 2 });
    expect(own.body.items.map((o: { id: string }) => o.id)).to.deep.equal([second.id, first.id]);
    // A customer's customerId filter cannot widen the view to someone else's orders.
    const sneaky = await orders('GET', `/orders?customerId=${carol.id}`, { token: bob.token });
    expect(sneaky.body.items.every((o: { customerId: string }) => o.customerId === bob.id)).to.equal(true);

    const byStaff = await orders('GET', `/orders?customerId=${carol.id}&pageSize=1&page=2`, { token: shop.staff });
    expect(byStaff.body).to.include({ page: 2, pageSize: 1, total: 2 });
    expect(byStaff.body.items[0].id).to.equal(first.id);
    await orders('POST', `/orders/${first.id}/cancel`, { token: carol.token });
    const cancelled = await orders('GET', `/orders?customerId=${carol.id}&status=CANCELLED`, { token: shop.staff });
    expect(cancelled.body.items.map((o: { id: string }) => o.id)).to.deep.equal([first.id]);
    expect((await orders('GET', '/orders?status=LOST', { token: shop.staff })).status).to.equal(400);
    expect((await orders('GET', '/orders')).status).to.equal(401);
  });

  it('moves a paid order through shipping and delivery (staff), committing its stock', async () => {
    const pen = await shop.product({ stock: 8 });
    const order = (await place(alice, [{ productId: pen.id, quantity: 3 }])).body;
    const notYet = await orders('POST', `/orders/${order.id}/ship`, { token: shop.staff });
    expect(notYet.status).to.equal(409);
    expect(notYet.body.error.code).to.equal('invalid_state');

    await markPaid(order.id);
    await stockIs(pen.id, { onHand: 5, reserved: 0 });
    expect((await orders('POST', `/orders/${order.id}/ship`, { token: alice.token })).status).to.equal(403);
    // Once paid, an order is refunded, not cancelled: neither its customer nor staff can cancel it.
    for (const token of [alice.token, shop.staff]) {
      const cancel = await orders('POST', `/orders/${order.id}/cancel`, { token });
      expect(cancel.status).to.equal(409);
      expect(cancel.body.error.code).to.equal('invalid_state');
    }
    const shipped = await orders('POST', `/orders/${order.id}/ship`, { token: shop.staff });
    expect(shipped.status).to.equal(200);
    expect(shipped.body.status).to.equal('SHIPPED');
    const delivered = await orders('POST', `/orders/${order.id}/deliver`, { token: shop.staff });
    expect(delivered.body.status).to.equal('DELIVERED');
    const backwards = await orders('POST', `/orders/${order.id}/ship`, { token: shop.staff });
    expect(backwards.status).to.equal(409);
    expect(backwards.body.error.code).to.equal('invalid_state');
    expect((await orders('POST', `/orders/${randomUUID()}/deliver`, { token: shop.staff })).status).to.equal(404);
    expect(await stock(pen.id)).to.include({ onHand: 5, reserved: 0, available: 5 });
  });

  it("allows exactly the state machine's moves between order states, and treats a move to the current state as done", async () => {
    const wire = (status: OrderStatusName) => orderStatus.toWire(status);
    // PAID and REFUNDED follow from a payment and its refund; the other moves are requests.
    const reach: Record<OrderStatusName, ((orderId: string, payment: { id?: string }) => Promise<unknown>)[]> = {
      PENDING_PAYMENT: [],
      PAID: [async (id, payment) => Object.assign(payment, await markPaid(id))],
      SHIPPED: [
        async (id, payment) => Object.assign(payment, await markPaid(id)),
        (id) => shop.rpc.call('order.transition', { id, to: wire('SHIPPED') }),
      ],
      DELIVERED: [
        async (id, payment) => Object.assign(payment, await markPaid(id)),
        (id) => shop.rpc.call('order.transition', { id, to: wire('SHIPPED') }),
        (id) => shop.rpc.call('order.transition', { id, to: wire('DELIVERED') }),
      ],
      CANCELLED: [(id) => shop.rpc.call('order.transition', { id, to: wire('CANCELLED') })],
      REFUNDED: [async (id, payment) => Object.assign(payment, await markPaid(id)), (_id, payment) => refund(payment.id!)],
    };
    const requested = new Set<OrderStatusName>(requestedOrderStatuses);
    const pen = await shop.product({ stock: 100 });
    const outcomes = await Promise.all(
      orderStatuses.flatMap((from) =>
        orderStatuses.map(async (target) => {
          const placed = await place(alice, [{ productId: pen.id, quantity: 1 }]);
          expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
          const order = placed.body;
          const payment: { id?: string } = {};
          for (const step of reach[from]) await step(order.id, payment);
          const moved = await shop.rpc.call('order.transition', { id: order.id, to: wire(target) }).then(
            (reply) => (reply.status === wire(target) ? 'ok' : `wrong status ${reply.status}`),
            (error: { code?: string }) => error.code ?? String(error),
          );
          return { from, target, moved };
        }),
      ),
    );
    for (const { from, target, moved } of outcomes) {
      const expected = !requested.has(target)
        ? 'validation_failed'
        : canMoveOrder(from, target) || from === target
          ? 'ok'
          : 'invalid_state';
      expect(moved, `${from}>${target}`).to.equal(expected);
    }
    expect(outcomes).to.have.length(orderStatuses.length ** 2);
  });

  it('pays and refunds through payment-service, the stock following in the same transactions', async () => {
    const pen = await shop.product({ stock: 4 });
    const order = (await place(alice, [{ productId: pen.id, quantity: 2 }])).body;
    await stockIs(pen.id, { onHand: 4, reserved: 2 });
    const payment = await markPaid(order.id);
    expect((await orders('GET', `/orders/${order.id}`, { token: alice.token })).body.status).to.equal('PAID');
    await stockIs(pen.id, { onHand: 2, reserved: 0 });
    await refund(payment.id);
    expect((await orders('GET', `/orders/${order.id}`, { token: alice.token })).body.status).to.equal('REFUNDED');
    await stockIs(pen.id, { onHand: 4, reserved: 0 });
  });

  it('serves health, readiness, metrics and its OpenAPI document', async () => {
    expect((await fetch(`${urls.orders}/ready`)).status).to.equal(200);
    const doc = (await (await fetch(`${urls.orders}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).to.include.members([
      '/orders',
      '/orders/{id}',
      '/orders/{id}/cancel',
      '/orders/{id}/ship',
      '/orders/{id}/deliver',
    ]);
    expect(JSON.stringify(doc.paths['/orders']!.post)).to.include('Idempotency-Key');
    const metrics = await (await fetch(`${urls.orders}/metrics`)).text();
    expect(metrics).to.match(/mart_rpc_duration_seconds_count\{command="order.place",outcome="ok"\} [1-9]/);
  });
});
