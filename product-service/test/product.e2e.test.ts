import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { RpcClient, createKafka } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { api, mintToken, requiredEnv, serviceUrl, stackKeys } from '@mart/common/testing';

interface Product {
  id: string;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  brandId: string;
  categoryId: string;
  active: boolean;
  available: number;
  createdAt: string;
  updatedAt: string;
}

// Drives the running product-service (with brand- and category-service for the references and
// their 409s) over HTTP. Stock is set with db-service's inventory.set command over Kafka: the
// inventory-service that will own that endpoint does not exist yet.
describe('/products end to end', function () {
  this.timeout(30_000);
  const urls = { product: serviceUrl('product-service'), brand: serviceUrl('brand-service'), category: serviceUrl('category-service') };
  const keys = stackKeys();
  const staff = mintToken(keys.privateKey, { kind: 'user', role: 'staff' });
  const customer = mintToken(keys.privateKey, { kind: 'customer' });
  const run = randomUUID().slice(0, 8);
  // A word no other test's data contains, so searches for it see only this run's products.
  const tag = `zq${run}`;
  const rpc = new RpcClient({
    kafka: createKafka({
      clientId: `product-e2e-${run}`,
      brokers: requiredEnv('KAFKA_BROKERS').split(','),
      logger: createLogger('test', 'silent'),
    }),
    service: 'product-e2e',
    instanceId: run,
    timeoutMs: 10_000,
    logger: createLogger('test', 'silent'),
  });

  const call = (base: string, method: string, path: string, options?: { token?: string; body?: unknown }) =>
    api(base).call(method, path, options);
  const products = (method: string, path: string, options?: { token?: string; body?: unknown }) =>
    call(urls.product, method, path, options);

  async function created(base: string, path: string, body: object): Promise<{ id: string }> {
    const result = await call(base, 'POST', path, { token: staff, body });
    expect(result.status, JSON.stringify(result.body)).to.equal(201);
    return result.body as { id: string };
  }

  let seq = 0;
  async function product(fields: Partial<Product> & Pick<Product, 'brandId' | 'categoryId'>): Promise<Product> {
    seq += 1;
    const body = { sku: `${run}-${seq}`, name: `Thing ${seq} ${tag}`, priceCents: 1000, ...fields };
    return (await created(urls.product, '/products', body)) as Product;
  }

  async function list(query: string, token?: string): Promise<{ items: Product[]; total: number; page: number; pageSize: number }> {
    const result = await products('GET', `/products?${query}`, token ? { token } : {});
    expect(result.status, JSON.stringify(result.body)).to.equal(200);
    return result.body;
  }
  const ids = (items: Product[]) => items.map((p) => p.id);
  const detailPaths = (body: { error: { details: { path: string }[] } }) => body.error.details.map((d) => d.path);

  // The fixture tree: Outdoor > Tents > Ultralight, Outdoor > Stoves; Kitchen at the top level.
  let acme: { id: string };
  let zenith: { id: string };
  let outdoor: { id: string };
  let tents: { id: string };
  let ultralight: { id: string };
  let stoves: { id: string };
  let kitchen: { id: string };

  before(async () => {
    await rpc.start();
    acme = await created(urls.brand, '/brands', { name: `Acme ${run}` });
    zenith = await created(urls.brand, '/brands', { name: `Zenith ${run}` });
    outdoor = await created(urls.category, '/categories', { name: `Outdoor ${run}` });
    tents = await created(urls.category, '/categories', { name: 'Tents', parentId: outdoor.id });
    ultralight = await created(urls.category, '/categories', { name: 'Ultralight', parentId: tents.id });
    stoves = await created(urls.category, '/categories', { name: 'Stoves', parentId: outdoor.id });
    kitchen = await created(urls.category, '/categories', { name: `Kitchen ${run}` });
  });

  after(async () => {
    await rpc.stop();
  });

  it('creates, reads, updates and deletes a product with exactly the documented fields', async () => {
    const body = {
      sku: `CRUD-${run}`,
      name: 'Trail Tent 2P',
      description: 'A two-person tent',
      priceCents: 24999,
      brandId: acme.id,
      categoryId: tents.id,
    };
    const result = await products('POST', '/products', { token: staff, body });
    expect(result.status).to.equal(201);
    expect(Object.keys(result.body).sort()).to.deep.equal([
      'active',
      'available',
      'brandId',
      'categoryId',
      'createdAt',
      'currency',
      'description',
      'id',
      'name',
      'priceCents',
      'sku',
      'updatedAt',
    ]);
    expect(result.body).to.include({ ...body, currency: 'USD', active: true, available: 0 });

    const read = await products('GET', `/products/${result.body.id}`);
    expect(read.status).to.equal(200);
    expect(read.body).to.deep.equal(result.body);

    const updated = await products('PATCH', `/products/${result.body.id}`, {
      token: staff,
      body: { priceCents: 19999, currency: 'EUR', name: 'Trail Tent 2P (2026)', categoryId: ultralight.id },
    });
    expect(updated.status).to.equal(200);
    expect(updated.body).to.include({
      priceCents: 19999,
      currency: 'EUR',
      name: 'Trail Tent 2P (2026)',
      categoryId: ultralight.id,
      sku: body.sku,
    });

    expect((await products('DELETE', `/products/${result.body.id}`, { token: staff })).status).to.equal(204);
    expect((await products('GET', `/products/${result.body.id}`)).status).to.equal(404);
    expect((await products('PATCH', `/products/${result.body.id}`, { token: staff, body: { name: 'Ghost' } })).status).to.equal(404);
  });

  it('refuses a duplicate sku with 409, on create and on update', async () => {
    const first = await product({ brandId: acme.id, categoryId: stoves.id, sku: `DUP-${run}` });
    const again = await products('POST', '/products', {
      token: staff,
      body: { sku: `DUP-${run}`, name: 'Other', priceCents: 1, brandId: acme.id, categoryId: stoves.id },
    });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('conflict');
    expect(detailPaths(again.body)).to.deep.equal(['sku']);

    const second = await product({ brandId: acme.id, categoryId: stoves.id });
    const renamed = await products('PATCH', `/products/${second.id}`, { token: staff, body: { sku: first.sku } });
    expect(renamed.status).to.equal(409);
  });

  it('rejects an unknown brand or category with 400 validation_failed naming each field', async () => {
    const result = await products('POST', '/products', {
      token: staff,
      body: { sku: `REF-${run}`, name: 'Nowhere', priceCents: 100, brandId: randomUUID(), categoryId: randomUUID() },
    });
    expect(result.status).to.equal(400);
    expect(result.body.error.code).to.equal('validation_failed');
    expect(detailPaths(result.body)).to.deep.equal(['brandId', 'categoryId']);

    const existing = await product({ brandId: acme.id, categoryId: stoves.id });
    const moved = await products('PATCH', `/products/${existing.id}`, { token: staff, body: { categoryId: randomUUID() } });
    expect(moved.status).to.equal(400);
    expect(detailPaths(moved.body)).to.deep.equal(['categoryId']);
  });

  it('rejects bad product fields with 400 naming each field', async () => {
    const base = { sku: `BAD-${run}`, name: 'Bad', priceCents: 100, brandId: acme.id, categoryId: stoves.id };
    const cases: [object, string][] = [
      [{ priceCents: -1 }, 'priceCents'],
      [{ priceCents: 9.99 }, 'priceCents'],
      [{ priceCents: '999' }, 'priceCents'],
      [{ currency: 'usd' }, 'currency'],
      [{ currency: 'XYZ' }, 'currency'],
      [{ sku: 'has space' }, 'sku'],
      [{ name: '' }, 'name'],
      [{ brandId: 'acme' }, 'brandId'],
    ];
    for (const [override, field] of cases) {
      const result = await products('POST', '/products', { token: staff, body: { ...base, ...override } });
      expect(result.status, field).to.equal(400);
      expect(detailPaths(result.body), JSON.stringify(override)).to.deep.equal([field]);
    }
    const empty = await products('PATCH', `/products/${randomUUID()}`, { token: staff, body: {} });
    expect(empty.status).to.equal(400);
  });

  it('keeps brands and categories that products use: deleting them is a 409', async () => {
    const brand = await created(urls.brand, '/brands', { name: `Used ${run}` });
    const category = await created(urls.category, '/categories', { name: `Used ${run}` });
    const used = await product({ brandId: brand.id, categoryId: category.id });

    const brandDelete = await call(urls.brand, 'DELETE', `/brands/${brand.id}`, { token: staff });
    expect(brandDelete.status).to.equal(409);
    expect(brandDelete.body.error.code).to.equal('conflict');
    const categoryDelete = await call(urls.category, 'DELETE', `/categories/${category.id}`, { token: staff });
    expect(categoryDelete.status).to.equal(409);
    expect(categoryDelete.body.error.code).to.equal('conflict');

    expect((await products('DELETE', `/products/${used.id}`, { token: staff })).status).to.equal(204);
    expect((await call(urls.brand, 'DELETE', `/brands/${brand.id}`, { token: staff })).status).to.equal(204);
    expect((await call(urls.category, 'DELETE', `/categories/${category.id}`, { token: staff })).status).to.equal(204);
  });

  describe('search, filters, sorting and pages', () => {
    let lantern: Product;
    let stove: Product;
    let bivy: Product;
    let tent: Product;
    let kettle: Product;
    // Only the five products below carry this word (other tests' products carry the run's tag).
    const find = `zf${run}`;

    before(async () => {
      const word = (w: string) => `${w}${run}`; // run-unique words: other data cannot match them
      lantern = await product({
        name: `Lantern ${find}`,
        description: `Bright ${word('luminous')} camp light`,
        priceCents: 2500,
        brandId: acme.id,
        categoryId: outdoor.id,
      });
      stove = await product({
        name: `Stove ${find}`,
        description: `Boils water fast; ${word('titanium')} burner`,
        priceCents: 8900,
        brandId: zenith.id,
        categoryId: stoves.id,
      });
      bivy = await product({
        name: `Bivy ${find}`,
        description: `A ${word('titanium')} pole shelter`,
        priceCents: 15900,
        brandId: acme.id,
        categoryId: ultralight.id,
      });
      tent = await product({
        name: `Dome tent ${find}`,
        description: 'Sleeps four',
        priceCents: 32000,
        brandId: acme.id,
        categoryId: tents.id,
      });
      kettle = await product({
        name: `Kettle ${find}`,
        description: `Enamel, ${word('titanium')} handle`,
        priceCents: 4000,
        brandId: zenith.id,
        categoryId: kitchen.id,
      });
      await rpc.call('inventory.set', { productId: bivy.id, onHand: 3 });
      await rpc.call('inventory.set', { productId: kettle.id, onHand: 12 });
      await rpc.call('inventory.set', { productId: tent.id, onHand: 0 });
    });

    it('finds a product by a word in its description, whatever its case', async () => {
      const found = await list(`q=${encodeURIComponent(`LUMINOUS${run}`)}`);
      expect(ids(found.items)).to.deep.equal([lantern.id]);
      expect(found.total).to.equal(1);
      // Part of a word, and every word of q must match somewhere (name or description).
      expect(ids((await list(`q=${encodeURIComponent(`minous${run}`)}`)).items)).to.deep.equal([lantern.id]);
      expect(ids((await list(`q=${encodeURIComponent(`kettle titanium${run}`)}`)).items)).to.deep.equal([kettle.id]);
      expect((await list(`q=${encodeURIComponent(`kettle luminous${run}`)}`)).total).to.equal(0);
      // LIKE wildcards in q are literal characters.
      expect((await list(`q=${encodeURIComponent(`%${run}`)}`)).total).to.equal(0);
    });

    it('filters by a category including all its sub-categories', async () => {
      const inOutdoor = await list(`q=${find}&categoryId=${outdoor.id}&sort=price`);
      expect(ids(inOutdoor.items)).to.deep.equal([lantern.id, stove.id, bivy.id, tent.id]);
      expect(ids((await list(`q=${find}&categoryId=${tents.id}&sort=price`)).items)).to.deep.equal([bivy.id, tent.id]);
      expect(ids((await list(`q=${find}&categoryId=${ultralight.id}`)).items)).to.deep.equal([bivy.id]);
      expect((await list(`categoryId=${randomUUID()}`)).total).to.equal(0);
    });

    it('combines filters: text, brand, category, price range and stock', async () => {
      const titanium = `q=${encodeURIComponent(`titanium${run}`)}`;
      expect(ids((await list(`${titanium}&sort=price`)).items)).to.deep.equal([kettle.id, stove.id, bivy.id]);
      expect(ids((await list(`${titanium}&brandId=${zenith.id}&sort=price`)).items)).to.deep.equal([kettle.id, stove.id]);
      expect(ids((await list(`${titanium}&brandId=${zenith.id}&categoryId=${outdoor.id}`)).items)).to.deep.equal([stove.id]);
      expect(ids((await list(`${titanium}&minPriceCents=4000&maxPriceCents=15900&sort=price`)).items)).to.deep.equal([
        kettle.id,
        stove.id,
        bivy.id,
      ]);
      expect(ids((await list(`${titanium}&minPriceCents=4001&maxPriceCents=15899`)).items)).to.deep.equal([stove.id]);
      expect(ids((await list(`${titanium}&inStock=true&sort=price`)).items)).to.deep.equal([kettle.id, bivy.id]);
      expect(
        ids((await list(`q=${find}&inStock=true&categoryId=${outdoor.id}&brandId=${acme.id}&maxPriceCents=20000`)).items),
      ).to.deep.equal([bivy.id]);
      // inStock=false is no filter at all (the tent with 0 on hand is listed).
      expect((await list(`q=${find}&inStock=false&categoryId=${tents.id}`)).total).to.equal(2);
    });

    it('sorts by price, -price, name and -createdAt', async () => {
      const byPrice = [lantern, kettle, stove, bivy, tent].map((p) => p.id);
      const mine = async (sort: string) => ids((await list(`q=${find}&sort=${encodeURIComponent(sort)}`)).items);
      expect(await mine('price')).to.deep.equal(byPrice);
      expect(await mine('-price')).to.deep.equal([...byPrice].reverse());
      // Names start with distinct capitals, so any collation orders them the same way.
      expect(await mine('name')).to.deep.equal([bivy.id, tent.id, kettle.id, lantern.id, stove.id]);
      expect(await mine('-createdAt')).to.deep.equal([kettle.id, tent.id, bivy.id, stove.id, lantern.id]);
    });

    it('pages without overlap or gaps, with the total', async () => {
      const everything = await list(`q=${find}&sort=price&pageSize=100`);
      const seen: string[] = [];
      for (let page = 1; page <= Math.ceil(everything.total / 3) + 1; page++) {
        const result = await list(`q=${find}&sort=price&page=${page}&pageSize=3`);
        expect(result).to.include({ page, pageSize: 3, total: everything.total });
        seen.push(...ids(result.items));
      }
      expect(seen).to.deep.equal(ids(everything.items));
      expect(new Set(seen).size).to.equal(everything.total);
    });

    it('shows available = on hand − reserved, and 0 without an inventory record', async () => {
      expect((await products('GET', `/products/${kettle.id}`)).body.available).to.equal(12);
      expect((await products('GET', `/products/${lantern.id}`)).body.available).to.equal(0);
      await rpc.call('inventory.set', { productId: lantern.id, onHand: 5 });
      expect((await products('GET', `/products/${lantern.id}`)).body.available).to.equal(5);
      const listed = (await list(`q=${encodeURIComponent(`luminous${run}`)}`)).items[0];
      expect(listed?.available).to.equal(5);
      await rpc.call('inventory.set', { productId: lantern.id, onHand: 0 });
      expect((await products('GET', `/products/${lantern.id}`)).body.available).to.equal(0);
    });
  });

  it('hides inactive products from anonymous callers and customers, not from staff', async () => {
    const hidden = await product({ brandId: acme.id, categoryId: kitchen.id, name: `Hidden ${tag}`, active: false });
    expect(hidden.active).to.equal(false);
    expect((await products('GET', `/products/${hidden.id}`)).status).to.equal(404);
    expect((await products('GET', `/products/${hidden.id}`, { token: customer })).status).to.equal(404);
    expect((await products('GET', `/products/${hidden.id}`, { token: staff })).body.id).to.equal(hidden.id);

    const query = `q=${encodeURIComponent(`hidden ${tag}`)}`;
    expect((await list(query)).total).to.equal(0);
    expect((await list(query, customer)).total).to.equal(0);
    expect(ids((await list(query, staff)).items)).to.deep.equal([hidden.id]);

    await products('PATCH', `/products/${hidden.id}`, { token: staff, body: { active: true } });
    expect(ids((await list(query)).items)).to.deep.equal([hidden.id]);
  });

  it('imports products in bulk (product.import): with stock, skipping known SKUs, all or nothing', async () => {
    const item = (n: number, onHand: number, brandId = acme.id) => ({
      product: {
        id: randomUUID(),
        sku: `IMP-${run}-${n}`,
        name: `Imported ${n} zi${run}`,
        description: 'bulk',
        priceCents: 100 * n,
        currency: 'USD',
        brandId,
        categoryId: stoves.id,
        active: true,
      },
      onHand,
    });
    expect(await rpc.call('product.import', { products: [item(1, 4), item(2, 0)] })).to.deep.include({ created: 2, skipped: 0 });
    const imported = await list(`q=zi${run}&sort=price`);
    expect(imported.items.map((p) => [p.sku, p.available])).to.deep.equal([
      [`IMP-${run}-1`, 4],
      [`IMP-${run}-2`, 0],
    ]);

    // The same SKUs again (new ids) are skipped; a new one is added.
    expect(await rpc.call('product.import', { products: [item(1, 9), item(2, 9), item(3, 1)] })).to.deep.include({
      created: 1,
      skipped: 2,
    });
    expect((await list(`q=zi${run}`)).total).to.equal(3);

    const bad = await rpc.call('product.import', { products: [item(4, 1), item(5, 1, randomUUID())] }).catch((error: unknown) => error);
    expect(bad).to.have.property('code', 'validation_failed');
    expect((bad as { details: { path: string }[] }).details.map((d) => d.path)).to.deep.equal(['products.1.brandId']);
    expect((await list(`q=zi${run}`)).total).to.equal(3);
  });

  it('rejects bad query parameters with 400 naming each one', async () => {
    const cases: [string, string[]][] = [
      ['sort=cheapest', ['sort']],
      ['minPriceCents=-5', ['minPriceCents']],
      ['maxPriceCents=ten', ['maxPriceCents']],
      ['minPriceCents=500&maxPriceCents=100', ['maxPriceCents']],
      ['inStock=yes', ['inStock']],
      ['pageSize=101', ['pageSize']],
      ['page=0', ['page']],
      ['brandId=acme&categoryId=42', ['brandId', 'categoryId']],
      [`q=${'x'.repeat(101)}`, ['q']],
    ];
    for (const [query, paths] of cases) {
      const result = await products('GET', `/products?${query}`);
      expect(result.status, query).to.equal(400);
      expect(result.body.error.code).to.equal('validation_failed');
      expect(detailPaths(result.body), query).to.deep.equal(paths);
    }
    expect((await products('GET', '/products/not-a-uuid')).status).to.equal(400);
  });

  it('lets anyone read but only staff write', async () => {
    const body = { sku: `ACL-${run}`, name: 'Nope', priceCents: 1, brandId: acme.id, categoryId: kitchen.id };
    expect((await products('GET', '/products')).status).to.equal(200);
    expect((await products('POST', '/products', { body })).status).to.equal(401);
    expect((await products('POST', '/products', { token: customer, body })).status).to.equal(403);
    expect((await products('DELETE', `/products/${randomUUID()}`, { token: customer })).status).to.equal(403);
    expect((await products('DELETE', `/products/${randomUUID()}`, { token: staff })).status).to.equal(404);
  });

  it('serves health, readiness and its OpenAPI document', async () => {
    expect((await fetch(`${urls.product}/health`)).status).to.equal(200);
    expect((await fetch(`${urls.product}/ready`)).status).to.equal(200);
    const doc = (await (await fetch(`${urls.product}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).to.include.members(['/products', '/products/{id}']);
    expect(Object.keys(doc.paths['/products/{id}']!)).to.include.members(['get', 'patch', 'delete']);
  });
});
