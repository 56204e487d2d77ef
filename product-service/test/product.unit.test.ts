import { expect } from 'chai';
import request from 'supertest';
import { ConflictError, NotFoundError } from '@mart/common/errors';
import { fakeRpc, generateTestKeys, mintToken, routeTestApp } from '@mart/common/testing';
import { mart } from '@mart/proto';
import { productRoutes } from '../src/product.routes.ts';

describe('product routes (fake rpc)', () => {
  const keys = generateTestKeys();
  const product = {
    id: '11111111-2222-4333-8444-555555555555',
    sku: 'TENT-1',
    name: 'Tent',
    description: '',
    priceCents: 1999,
    currency: 'USD',
    brandId: '22222222-2222-4333-8444-555555555555',
    categoryId: '33333333-2222-4333-8444-555555555555',
    active: true,
    available: 4,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  const rpc = fakeRpc({
    'product.create': (request) => ({ ...product, ...request }),
    'product.update': (request) => ({ ...product, ...request }),
    'product.get': (request) => ({ ...product, ...request }),
    'product.list': () => ({ items: [product], page: { page: 2, pageSize: 10, total: 11 } }),
  });
  const { calls } = rpc;
  const app = routeTestApp(productRoutes({ rpc }), keys.publicKey);
  const staff = `Bearer ${mintToken(keys.privateKey, { kind: 'user', role: 'staff' })}`;
  const customer = `Bearer ${mintToken(keys.privateKey, { kind: 'customer' })}`;
  const id = '5d3b6a8e-2c1f-4e8a-9b7d-1a2b3c4d5e6f';
  const { ProductSort } = mart.product;

  beforeEach(() => {
    calls.length = 0;
    rpc.failWith = undefined;
  });

  it('fills in the documented defaults on create: USD, active, empty description', async () => {
    const body = { sku: ' TENT-1 ', name: 'Tent', priceCents: 1999, brandId: product.brandId, categoryId: product.categoryId };
    const res = await request(app).post('/products').set('authorization', staff).send(body);
    expect(res.status).to.equal(201);
    expect(calls.map((call) => call.name)).to.deep.equal(['product.create']);
    expect(calls[0]?.request).to.include({ sku: 'TENT-1', currency: 'USD', active: true, description: '' });
    expect(rpc.sent('product.create')[0]?.id).to.match(/^[0-9a-f-]{36}$/);
    expect(Object.keys(res.body).sort()).to.deep.equal(Object.keys(product).sort());
  });

  it('maps the list query onto one product.list command', async () => {
    const res = await request(app).get(
      `/products?q=%20tent%20&brandId=${product.brandId}&categoryId=${product.categoryId}&minPriceCents=100&maxPriceCents=900&inStock=true&sort=-price&page=2&pageSize=10`,
    );
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ items: [product], page: 2, pageSize: 10, total: 11 });
    expect(calls[0]?.request).to.deep.equal({
      page: { page: 2, pageSize: 10 },
      q: 'tent',
      brandId: product.brandId,
      categoryId: product.categoryId,
      minPriceCents: 100,
      maxPriceCents: 900,
      inStock: true,
      sort: ProductSort.PRODUCT_SORT_PRICE_DESC,
      includeInactive: false,
    });
  });

  it('maps each sort and defaults to name', async () => {
    const expected: [string, mart.product.ProductSort][] = [
      ['', ProductSort.PRODUCT_SORT_NAME],
      ['sort=name', ProductSort.PRODUCT_SORT_NAME],
      ['sort=price', ProductSort.PRODUCT_SORT_PRICE],
      ['sort=-price', ProductSort.PRODUCT_SORT_PRICE_DESC],
      ['sort=-createdAt', ProductSort.PRODUCT_SORT_CREATED_DESC],
    ];
    for (const [query] of expected) await request(app).get(`/products?${query}`);
    const sent = rpc.sent('product.list');
    expect(sent.map((list) => list.sort)).to.deep.equal(expected.map(([, sort]) => sort));
    expect(sent[0]?.inStock).to.equal(false);
    expect(calls).to.have.length(expected.length);
  });

  it('lets only staff see inactive products', async () => {
    await request(app).get(`/products/${id}`);
    await request(app).get(`/products/${id}`).set('authorization', customer);
    await request(app).get(`/products/${id}`).set('authorization', staff);
    await request(app).get('/products').set('authorization', staff);
    expect(calls.map((call) => call.name)).to.deep.equal(['product.get', 'product.get', 'product.get', 'product.list']);
    const sent = [...rpc.sent('product.get'), ...rpc.sent('product.list')];
    expect(sent.map((request) => request.includeInactive)).to.deep.equal([false, false, true, true]);
  });

  it('rejects bad query parameters and bodies before any command is sent', async () => {
    const paths = (res: request.Response) => res.body.error.details.map((d: { path: string }) => d.path);
    const bad = await request(app).get('/products?sort=random&inStock=1&categoryId=7');
    expect(bad.status).to.equal(400);
    expect(paths(bad)).to.deep.equal(['categoryId', 'inStock', 'sort']);
    expect(paths(await request(app).get('/products?minPriceCents=5&maxPriceCents=1'))).to.deep.equal(['maxPriceCents']);
    const body = { sku: 'X', name: 'X', priceCents: 1.5, currency: 'usd', brandId: 'b', categoryId: product.categoryId };
    const invalid = await request(app).post('/products').set('authorization', staff).send(body);
    expect(paths(invalid)).to.deep.equal(['priceCents', 'currency', 'brandId']);
    expect((await request(app).patch(`/products/${id}`).set('authorization', staff).send({})).status).to.equal(400);
    expect(calls).to.have.length(0);
  });

  it("maps db-service's typed errors to their statuses", async () => {
    rpc.failWith = new NotFoundError('inactive');
    expect((await request(app).get(`/products/${id}`)).status).to.equal(404);
    rpc.failWith = new ConflictError('duplicate sku', [{ path: 'sku', message: 'already exists' }]);
    const duplicate = await request(app).patch(`/products/${id}`).set('authorization', staff).send({ sku: 'TENT-2' });
    expect(duplicate.status).to.equal(409);
    expect(duplicate.body.error.details).to.deep.equal([{ path: 'sku', message: 'already exists' }]);
  });
});
