import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { InsufficientStockError } from '@mart/common/errors';
import { fakeRpc, generateTestKeys, mintToken, routeTestApp } from '@mart/common/testing';
import { inventoryRoutes } from '../src/inventory.routes.ts';

const productId = randomUUID();
const record = { productId, onHand: 10, reserved: 4, available: 6, updatedAt: '2026-01-01T00:00:00.000Z' };

describe('inventory routes (fake rpc)', () => {
  const keys = generateTestKeys();
  const staffId = randomUUID();
  const staff = `Bearer ${mintToken(keys.privateKey, { kind: 'user', role: 'staff', sub: staffId })}`;
  const rpc = fakeRpc({
    'inventory.get': () => record,
    'inventory.set': () => record,
    'inventory.adjust': () => record,
    'inventory.list-adjustments': () => ({
      items: [{ id: 'a1', productId, delta: -3, reason: 'order x paid', onHandAfter: 7, actorId: '', createdAt: record.updatedAt }],
      page: { page: 1, pageSize: 20, total: 1 },
    }),
  });
  const { calls } = rpc;
  const app = routeTestApp(inventoryRoutes({ rpc }), keys.publicKey);

  beforeEach(() => {
    calls.length = 0;
    rpc.failWith = undefined;
  });

  it('answers with the stock record, available included', async () => {
    const res = await request(app).get(`/inventory/${productId}`).set('authorization', staff);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal(record);
    expect(calls[0]).to.deep.include({ name: 'inventory.get', request: { productId } });
  });

  it('records the staff user as the actor of sets and adjustments, with a trimmed reason', async () => {
    await request(app).put(`/inventory/${productId}`).set('authorization', staff).send({ onHand: 12 });
    expect(calls[0]).to.deep.include({ name: 'inventory.set', request: { productId, onHand: 12, actorId: staffId } });
    const res = await request(app)
      .post(`/inventory/${productId}/adjustments`)
      .set('authorization', staff)
      .send({ delta: -2, reason: ' broken ' });
    expect(res.status).to.equal(200);
    expect(calls[1]).to.deep.include({ name: 'inventory.adjust', request: { productId, delta: -2, reason: 'broken', actorId: staffId } });
  });

  it('rejects a zero or fractional delta and a missing reason without calling db-service', async () => {
    const zero = await request(app).post(`/inventory/${productId}/adjustments`).set('authorization', staff).send({ delta: 0 });
    expect(zero.status).to.equal(400);
    expect(zero.body.error.details.map((d: { path: string }) => d.path)).to.have.members(['delta', 'reason']);
    const fraction = await request(app)
      .post(`/inventory/${productId}/adjustments`)
      .set('authorization', staff)
      .send({ delta: 1.5, reason: 'x' });
    expect(fraction.body.error.details[0].path).to.equal('delta');
    expect(calls).to.have.length(0);
  });

  it('passes "never below reserved" through as 409 insufficient_stock', async () => {
    rpc.failWith = new InsufficientStockError('4 unit(s) are reserved', [{ path: 'delta', message: 'must be at least -6' }]);
    const res = await request(app).post(`/inventory/${productId}/adjustments`).set('authorization', staff).send({ delta: -7, reason: 'x' });
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('insufficient_stock');
  });

  it('lists the audit trail, with no actor for changes orders made', async () => {
    const res = await request(app).get(`/inventory/${productId}/adjustments`).set('authorization', staff);
    expect(res.body.items[0]).to.include({ delta: -3, onHandAfter: 7, actorId: null });
    expect(res.body).to.include({ page: 1, pageSize: 20, total: 1 });
  });
});
