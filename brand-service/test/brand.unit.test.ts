import { expect } from 'chai';
import request from 'supertest';
import { NotFoundError } from '@mart/common/errors';
import { fakeRpc, generateTestKeys, mintToken, routeTestApp } from '@mart/common/testing';
import { brandRoutes } from '../src/brand.routes.ts';

describe('brand routes (fake rpc)', () => {
  const keys = generateTestKeys();
  const brand = { id: 'b1', name: 'Acme', description: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
  const rpc = fakeRpc({
    'brand.create': (request) => ({ ...brand, ...request }),
    'brand.update': (request) => ({ ...brand, ...request }),
    'brand.get': () => {
      throw new NotFoundError('Brand not found');
    },
    'brand.list': () => ({ items: [brand], page: { page: 2, pageSize: 5, total: 6 } }),
  });
  const { calls } = rpc;
  const app = routeTestApp(brandRoutes({ rpc }), keys.publicKey);
  const staff = `Bearer ${mintToken(keys.privateKey, { kind: 'user', role: 'staff' })}`;
  const id = '5d3b6a8e-2c1f-4e8a-9b7d-1a2b3c4d5e6f';

  beforeEach(() => {
    calls.length = 0;
  });

  it('generates the brand id at the edge and sends a trimmed name', async () => {
    const res = await request(app).post('/brands').set('authorization', staff).send({ name: '  Acme  ' });
    expect(res.status).to.equal(201);
    expect(calls.map((call) => call.name)).to.deep.equal(['brand.create']);
    const [sent] = rpc.sent('brand.create');
    expect(sent?.name).to.equal('Acme');
    expect(sent?.id).to.match(/^[0-9a-f-]{36}$/);
  });

  it('turns description: null into the clear-description command', async () => {
    await request(app).patch(`/brands/${id}`).set('authorization', staff).send({ description: null });
    expect(calls[0]?.request).to.deep.include({ id, description: '' });
  });

  it('rejects an empty patch', async () => {
    const res = await request(app).patch(`/brands/${id}`).set('authorization', staff).send({});
    expect(res.status).to.equal(400);
    expect(calls).to.have.length(0);
  });

  it('maps a not-found reply to 404 and passes paging through', async () => {
    expect((await request(app).get(`/brands/${id}`)).status).to.equal(404);
    const list = await request(app).get('/brands?page=2&pageSize=5');
    expect(list.body).to.deep.equal({ items: [brand], page: 2, pageSize: 5, total: 6 });
    expect(calls[1]?.request).to.deep.include({ page: { page: 2, pageSize: 5 } });
  });
});
