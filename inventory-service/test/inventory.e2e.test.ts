import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { serviceUrl } from '@mart/common/testing';
import { mart } from '@mart/proto';
import { Shop, address, call, type TestCustomer } from '../../order-service/test/shop.fixtures.ts';

// Drives the running inventory-service over HTTP; orders are placed through order-service and
// paid through payment-service, whose answer comes back with the order's stock already moved.
describe('/inventory end to end', function () {
  this.timeout(30_000);
  const urls = { inventory: serviceUrl('inventory-service'), orders: serviceUrl('order-service'), payments: serviceUrl('payment-service') };
  const shop = new Shop('inventory-e2e');
  let buyer: TestCustomer;

  const inventory = (method: string, path: string, options?: Parameters<typeof call>[3]) =>
    call(urls.inventory, method, path, { token: shop.staff, ...options });
  const stock = async (productId: string) => (await inventory('GET', `/inventory/${productId}`)).body;
  const adjustments = async (productId: string) => (await inventory('GET', `/inventory/${productId}/adjustments`)).body;
  async function order(productId: string, quantity: number): Promise<{ id: string }> {
    const placed = await call(urls.orders, 'POST', '/orders', {
      token: buyer.token,
      body: { items: [{ productId, quantity }], shippingAddress: address },
    });
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    return placed.body;
  }

  before(async () => {
    await shop.open();
    buyer = await shop.customer();
  });

  after(() => shop.close());

  it('reads stock: zeros for a product never stocked, 404 for no product', async () => {
    const fresh = await shop.product({ stock: null });
    const read = await inventory('GET', `/inventory/${fresh.id}`);
    expect(read.status).to.equal(200);
    expect(read.body).to.include({ productId: fresh.id, onHand: 0, reserved: 0, available: 0 });
    const missing = await inventory('GET', `/inventory/${randomUUID()}`);
    expect(missing.status).to.equal(404);
    expect(missing.body.error.code).to.equal('not_found');
    const badId = await inventory('GET', '/inventory/not-a-uuid');
    expect(badId.status).to.equal(400);
    expect(badId.body.error.details[0].path).to.equal('productId');
  });

  it('sets and adjusts stock, recording each change with its reason and actor', async () => {
    const product = await shop.product({ stock: null });
    const set = await inventory('PUT', `/inventory/${product.id}`, { body: { onHand: 20 } });
    expect(set.status).to.equal(200);
    expect(set.body).to.include({ productId: product.id, onHand: 20, reserved: 0, available: 20 });
    const added = await inventory('POST', `/inventory/${product.id}/adjustments`, { body: { delta: 5, reason: '  delivery 42 ' } });
    expect(added.status).to.equal(200);
    expect(added.body).to.include({ onHand: 25, available: 25 });
    const removed = await inventory('POST', `/inventory/${product.id}/adjustments`, { body: { delta: -7, reason: 'water damage' } });
    expect(removed.body).to.include({ onHand: 18, available: 18 });

    const trail = await adjustments(product.id);
    expect(trail).to.include({ page: 1, pageSize: 20, total: 3 });
    const rows = trail.items.map((a: { delta: number; reason: string; onHandAfter: number; actorId: string }) => [
      a.delta,
      a.reason,
      a.onHandAfter,
      a.actorId,
    ]);
    expect(rows).to.have.deep.members([
      [20, 'set', 20, shop.staffId],
      [5, 'delivery 42', 25, shop.staffId],
      [-7, 'water damage', 18, shop.staffId],
    ]);
  });

  it('never lets on hand drop below what orders have reserved (409 insufficient_stock)', async () => {
    const product = await shop.product({ stock: 10 });
    await order(product.id, 6);
    expect(await stock(product.id)).to.include({ onHand: 10, reserved: 6, available: 4 });

    const tooMuch = await inventory('POST', `/inventory/${product.id}/adjustments`, { body: { delta: -5, reason: 'recount' } });
    expect(tooMuch.status).to.equal(409);
    expect(tooMuch.body.error.code).to.equal('insufficient_stock');
    expect(tooMuch.body.error.details[0].path).to.equal('delta');
    const setTooLow = await inventory('PUT', `/inventory/${product.id}`, { body: { onHand: 5 } });
    expect(setTooLow.status).to.equal(409);
    expect(setTooLow.body.error.code).to.equal('insufficient_stock');

    const toTheLimit = await inventory('POST', `/inventory/${product.id}/adjustments`, { body: { delta: -4, reason: 'recount' } });
    expect(toTheLimit.status).to.equal(200);
    expect(toTheLimit.body).to.include({ onHand: 6, reserved: 6, available: 0 });
    // The refused changes left no trace in the audit trail.
    expect((await adjustments(product.id)).items.map((a: { delta: number }) => a.delta)).to.have.members([10, -4]);
  });

  it('commits the stock of a paid order in the same transaction as the payment (on hand and reserved both drop), once', async () => {
    const product = await shop.product({ stock: 9 });
    const placed = await order(product.id, 4);
    const pay = () =>
      call(urls.payments, 'POST', '/payments', { token: buyer.token, body: { orderId: placed.id, paymentMethod: 'pm_card_visa' } });
    const paid = await pay();
    expect(paid.status, JSON.stringify(paid.body)).to.equal(201);
    // No waiting: by the time the payment is answered, the stock has moved.
    expect(await stock(product.id)).to.include({ onHand: 5, reserved: 0, available: 5 });
    const sale = (await adjustments(product.id)).items[0];
    expect(sale).to.include({ delta: -4, reason: `order ${placed.id} paid`, onHandAfter: 5, actorId: null });

    // A second payment is refused, and nothing is committed twice.
    expect((await pay()).status).to.equal(409);
    expect(await stock(product.id)).to.include({ onHand: 5, reserved: 0, available: 5 });
    expect((await adjustments(product.id)).items).to.have.length(2);
    // Stock cannot run ahead of the order: a request cannot make an order PAID without a payment.
    const unpaid = await order(product.id, 1);
    const forged = await shop.rpc
      .call('order.transition', { id: unpaid.id, to: mart.order.OrderStatus.ORDER_STATUS_PAID })
      .catch((error: Error) => error);
    expect(forged).to.have.property('code', 'validation_failed');
    expect(await stock(product.id)).to.include({ onHand: 5, reserved: 1, available: 4 });
  });

  it('validates input and requires a staff token', async () => {
    const product = await shop.product();
    const zero = await inventory('POST', `/inventory/${product.id}/adjustments`, { body: { delta: 0, reason: '' } });
    expect(zero.status).to.equal(400);
    expect(zero.body.error.details.map((d: { path: string }) => d.path)).to.have.members(['delta', 'reason']);
    const negative = await inventory('PUT', `/inventory/${product.id}`, { body: { onHand: -1 } });
    expect(negative.body.error.details[0].path).to.equal('onHand');
    expect((await call(urls.inventory, 'GET', `/inventory/${product.id}`)).status).to.equal(401);
    expect((await call(urls.inventory, 'GET', `/inventory/${product.id}`, { token: buyer.token })).status).to.equal(403);
    const unknown = await inventory('POST', `/inventory/${randomUUID()}/adjustments`, { body: { delta: 1, reason: 'found one' } });
    expect(unknown.status).to.equal(404);
  });

  it('serves readiness and its OpenAPI document', async () => {
    expect((await fetch(`${urls.inventory}/ready`)).status).to.equal(200);
    const doc = (await (await fetch(`${urls.inventory}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).to.include.members(['/inventory/{productId}', '/inventory/{productId}/adjustments']);
    expect(Object.keys(doc.paths['/inventory/{productId}']!)).to.include.members(['get', 'put']);
  });
});
