import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { InsufficientStockError, InvalidStateError } from '@mart/common/errors';
import { fakeRpc, generateTestKeys, mintToken, routeTestApp } from '@mart/common/testing';
import { mart } from '@mart/proto';
import { orderRoutes } from '../src/order.routes.ts';

const { OrderStatus } = mart.order;

const customerId = randomUUID();
const productId = randomUUID();
const wireOrder = {
  id: randomUUID(),
  customerId,
  status: OrderStatus.ORDER_STATUS_PENDING_PAYMENT,
  items: [{ productId, quantity: 2, unitPriceCents: 1999, sku: 'PEN-1', name: 'Pen' }],
  totalCents: 3998,
  currency: 'USD',
  shippingAddress: { line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T00:15:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('order routes (fake rpc)', () => {
  const keys = generateTestKeys();
  const customer = `Bearer ${mintToken(keys.privateKey, { kind: 'customer', sub: customerId })}`;
  const staffId = randomUUID();
  const staff = `Bearer ${mintToken(keys.privateKey, { kind: 'user', role: 'staff', sub: staffId })}`;
  const rpc = fakeRpc({
    'order.place': () => wireOrder,
    'order.get': () => wireOrder,
    'order.transition': () => wireOrder,
    'order.list': () => ({ items: [wireOrder], page: { page: 2, pageSize: 1, total: 3 } }),
  });
  const { calls } = rpc;
  const app = routeTestApp(orderRoutes({ rpc }, { ttlSeconds: 900 }), keys.publicKey);
  const body = { items: [{ productId, quantity: 2 }], shippingAddress: wireOrder.shippingAddress };

  beforeEach(() => {
    calls.length = 0;
    rpc.failWith = undefined;
  });

  it('places the order for the signed-in customer, with the configured hold time and the Idempotency-Key', async () => {
    const res = await request(app).post('/orders').set('authorization', customer).set('Idempotency-Key', 'cart-7').send(body);
    expect(res.status).to.equal(201);
    expect(calls.map((call) => call.name)).to.deep.equal(['order.place']);
    expect(calls[0]?.request).to.deep.include({ customerId, lines: body.items, idempotencyKey: 'cart-7', ttlSeconds: 900 });
    expect(rpc.sent('order.place')[0]?.id).to.match(/^[0-9a-f-]{36}$/);
    expect(res.body).to.deep.equal({
      ...wireOrder,
      status: 'PENDING_PAYMENT',
      items: [{ productId, quantity: 2, unitPriceCents: 1999, sku: 'PEN-1', name: 'Pen' }],
    });
  });

  it('rejects duplicate products, prices from the client and a bad Idempotency-Key without calling db-service', async () => {
    const twice = await request(app)
      .post('/orders')
      .set('authorization', customer)
      .send({ ...body, items: [body.items[0], { productId: productId.toUpperCase(), quantity: 1 }] });
    expect(twice.status).to.equal(400);
    expect(twice.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['items.1.productId']);
    const priced = await request(app)
      .post('/orders')
      .set('authorization', customer)
      .send({ ...body, items: [{ ...body.items[0], unitPriceCents: 1 }] });
    expect(priced.body.error.details[0].path).to.equal('items.0.unitPriceCents');
    const key = await request(app).post('/orders').set('authorization', customer).set('Idempotency-Key', 'has space').send(body);
    expect(key.status).to.equal(400);
    expect(key.body.error.details[0]).to.include({ path: 'Idempotency-Key', location: 'headers' });
    expect(calls).to.have.length(0);
  });

  it('passes db-service refusals through with their code and details', async () => {
    rpc.failWith = new InsufficientStockError('Not enough stock', [{ path: 'items.0.productId', message: productId }]);
    const res = await request(app).post('/orders').set('authorization', customer).send(body);
    expect(res.status).to.equal(409);
    expect(res.body.error).to.deep.include({ code: 'insufficient_stock', details: [{ path: 'items.0.productId', message: productId }] });
  });

  it('limits a customer to their own orders, and lets staff see and filter every order', async () => {
    await request(app).get(`/orders/${wireOrder.id}`).set('authorization', customer);
    expect(calls[0]?.request).to.deep.equal({ id: wireOrder.id, customerId });
    await request(app).get(`/orders/${wireOrder.id}`).set('authorization', staff);
    expect(calls[1]?.request).to.deep.equal({ id: wireOrder.id, customerId: undefined });

    const other = randomUUID();
    await request(app).get(`/orders?customerId=${other}`).set('authorization', customer);
    expect(rpc.sent('order.list')[0]?.customerId).to.equal(customerId);
    const list = await request(app).get(`/orders?customerId=${other}&status=PAID&page=2&pageSize=1`).set('authorization', staff);
    expect(calls[3]?.request).to.deep.equal({ page: { page: 2, pageSize: 1 }, customerId: other, status: OrderStatus.ORDER_STATUS_PAID });
    expect(list.body).to.include({ page: 2, pageSize: 1, total: 3 });
  });

  it('maps cancel, ship and deliver to transitions, only ship and deliver being staff-only', async () => {
    await request(app).post(`/orders/${wireOrder.id}/cancel`).set('authorization', customer);
    expect(calls[0]?.request).to.deep.equal({ id: wireOrder.id, to: OrderStatus.ORDER_STATUS_CANCELLED, customerId, actorId: customerId });
    await request(app).post(`/orders/${wireOrder.id}/ship`).set('authorization', staff);
    expect(calls[1]?.request).to.deep.equal({
      id: wireOrder.id,
      to: OrderStatus.ORDER_STATUS_SHIPPED,
      customerId: undefined,
      actorId: staffId,
    });
    await request(app).post(`/orders/${wireOrder.id}/deliver`).set('authorization', staff);
    expect(rpc.sent('order.transition')[2]?.to).to.equal(OrderStatus.ORDER_STATUS_DELIVERED);
    expect((await request(app).post(`/orders/${wireOrder.id}/ship`).set('authorization', customer)).status).to.equal(403);
    expect(calls).to.have.length(3);
  });

  it('tells staff that a paid order is refunded, not cancelled', async () => {
    rpc.failWith = new InvalidStateError('Order is PAID; it cannot become CANCELLED');
    const res = await request(app).post(`/orders/${wireOrder.id}/cancel`).set('authorization', staff);
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('invalid_state');
    expect(res.body.error.message).to.include('refund');
  });
});
