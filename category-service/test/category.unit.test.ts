import { expect } from 'chai';
import request from 'supertest';
import { ConflictError, ValidationError } from '@mart/common/errors';
import { fakeRpc, generateTestKeys, mintToken, routeTestApp } from '@mart/common/testing';
import { categoryRoutes } from '../src/category.routes.ts';

describe('category routes (fake rpc)', () => {
  const keys = generateTestKeys();
  const category = {
    id: '11111111-2222-4333-8444-555555555555',
    name: 'Tents',
    description: null,
    parentId: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  const rpc = fakeRpc({
    'category.create': (request) => ({ ...category, ...request }),
    'category.update': (request) => ({ ...category, ...request }),
    'category.delete': () => ({}),
    'category.list': () => ({ items: [category], page: { page: 1, pageSize: 20, total: 1 } }),
  });
  const { calls } = rpc;
  const app = routeTestApp(categoryRoutes({ rpc }), keys.publicKey);
  const staff = `Bearer ${mintToken(keys.privateKey, { kind: 'user', role: 'staff' })}`;
  const customer = `Bearer ${mintToken(keys.privateKey, { kind: 'customer' })}`;
  const id = '5d3b6a8e-2c1f-4e8a-9b7d-1a2b3c4d5e6f';
  const parentId = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

  beforeEach(() => {
    calls.length = 0;
    rpc.failWith = undefined;
  });

  it('generates the id at the edge and sends a trimmed name with the parent', async () => {
    const res = await request(app).post('/categories').set('authorization', staff).send({ name: '  Tents ', parentId });
    expect(res.status).to.equal(201);
    expect(calls.map((call) => call.name)).to.deep.equal(['category.create']);
    expect(calls[0]?.request).to.include({ name: 'Tents', parentId });
    expect(rpc.sent('category.create')[0]?.id).to.match(/^[0-9a-f-]{36}$/);
  });

  it('turns parentId: null into a move to the top level and description: null into a clear', async () => {
    await request(app).patch(`/categories/${id}`).set('authorization', staff).send({ parentId: null, description: null });
    expect(calls[0]?.request).to.deep.include({ id, clearParent: true, parentId: undefined, description: '' });
    await request(app).patch(`/categories/${id}`).set('authorization', staff).send({ parentId });
    expect(calls[1]?.request).to.deep.include({ parentId, clearParent: false });
  });

  it('lists everything, the children of parentId, or the top level', async () => {
    await request(app).get('/categories');
    expect(calls[0]?.request).to.deep.include({ parentId: undefined, rootsOnly: false, page: { page: 1, pageSize: 20 } });
    await request(app).get(`/categories?parentId=${parentId}`);
    expect(calls[1]?.request).to.deep.include({ parentId, rootsOnly: false });
    const roots = await request(app).get('/categories?roots=true');
    expect(calls[2]?.request).to.deep.include({ rootsOnly: true });
    expect(roots.body).to.deep.equal({ items: [category], page: 1, pageSize: 20, total: 1 });
  });

  it('rejects bad requests before any command is sent', async () => {
    const both = await request(app).get(`/categories?parentId=${parentId}&roots=true`);
    expect(both.status).to.equal(400);
    expect(both.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['roots']);
    expect((await request(app).patch(`/categories/${id}`).set('authorization', staff).send({})).status).to.equal(400);
    expect((await request(app).post('/categories').send({ name: 'Anon' })).status).to.equal(401);
    expect((await request(app).post('/categories').set('authorization', customer).send({ name: 'Cust' })).status).to.equal(403);
    expect(calls).to.have.length(0);
  });

  it("maps db-service's typed errors to their statuses", async () => {
    rpc.failWith = new ConflictError('has children');
    expect((await request(app).delete(`/categories/${id}`).set('authorization', staff)).status).to.equal(409);
    rpc.failWith = new ValidationError([{ path: 'parentId', message: 'would make a cycle' }]);
    const cycle = await request(app).patch(`/categories/${id}`).set('authorization', staff).send({ parentId });
    expect(cycle.status).to.equal(400);
    expect(cycle.body.error.details).to.deep.equal([{ path: 'parentId', message: 'would make a cycle' }]);
  });
});
