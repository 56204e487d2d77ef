import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { api, mintToken, serviceUrl, stackKeys } from '@mart/common/testing';

interface Category {
  id: string;
  name: string;
  description: string | null;
  parentId: string | null;
}

// Drives the running category-service over HTTP: HTTP → Kafka → db-service → PostgreSQL and back.
describe('/categories end to end', () => {
  const base = serviceUrl('category-service');
  const keys = stackKeys();
  const staff = mintToken(keys.privateKey, { kind: 'user', role: 'staff' });
  const customer = mintToken(keys.privateKey, { kind: 'customer' });
  const run = randomUUID().slice(0, 8);

  const { call } = api(base);

  async function create(name: string, parentId?: string): Promise<Category> {
    const created = await call('POST', '/categories', { token: staff, body: { name, ...(parentId ? { parentId } : {}) } });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return created.body as Category;
  }

  function detailPaths(body: { error: { details: { path: string }[] } }): string[] {
    return body.error.details.map((detail) => detail.path);
  }

  it('creates, reads, updates and deletes a category', async () => {
    const created = await call('POST', '/categories', { token: staff, body: { name: `Garden ${run}`, description: 'Outdoors' } });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ name: `Garden ${run}`, description: 'Outdoors', parentId: null });
    expect(Object.keys(created.body).sort()).to.deep.equal(['createdAt', 'description', 'id', 'name', 'parentId', 'updatedAt']);

    const read = await call('GET', `/categories/${created.body.id}`);
    expect(read.status).to.equal(200);
    expect(read.body).to.deep.equal(created.body);

    const renamed = await call('PATCH', `/categories/${created.body.id}`, {
      token: staff,
      body: { name: `Garden & Patio ${run}`, description: null },
    });
    expect(renamed.status).to.equal(200);
    expect(renamed.body).to.include({ name: `Garden & Patio ${run}`, description: null, parentId: null });

    expect((await call('DELETE', `/categories/${created.body.id}`, { token: staff })).status).to.equal(204);
    expect((await call('GET', `/categories/${created.body.id}`)).status).to.equal(404);
    expect((await call('DELETE', `/categories/${created.body.id}`, { token: staff })).status).to.equal(404);
  });

  describe('a tree through parentId', () => {
    it('lists the children of a parent, the top level, or everything', async () => {
      const root = await create(`Tools ${run}`);
      const saws = await create(`Saws ${run}`, root.id);
      const drills = await create(`Drills ${run}`, root.id);
      const cordless = await create(`Cordless ${run}`, drills.id);

      const children = await call('GET', `/categories?parentId=${root.id}`);
      expect(children.status).to.equal(200);
      expect(children.body.items.map((c: Category) => c.id)).to.deep.equal([drills.id, saws.id]); // by name
      expect(children.body.total).to.equal(2);
      expect((await call('GET', `/categories?parentId=${drills.id}`)).body.items.map((c: Category) => c.id)).to.deep.equal([cordless.id]);

      const roots = await call('GET', '/categories?roots=true&pageSize=100');
      expect(roots.body.items.every((c: Category) => c.parentId === null)).to.equal(true);
      const all = await call('GET', '/categories?pageSize=100');
      expect(all.body.total).to.be.greaterThan(roots.body.total);
      expect(all.body.total).to.be.at.least(4);
    });

    it('refuses a duplicate name among siblings, whatever its case, but allows it elsewhere in the tree', async () => {
      const root = await create(`Kitchen ${run}`);
      await create(`Knives ${run}`, root.id);
      const duplicate = await call('POST', '/categories', { token: staff, body: { name: ` KNIVES ${run} `, parentId: root.id } });
      expect(duplicate.status).to.equal(409);
      expect(duplicate.body.error.code).to.equal('conflict');
      expect(detailPaths(duplicate.body)).to.deep.equal(['name']);

      const otherRoot = await create(`Camping ${run}`);
      await create(`Knives ${run}`, otherRoot.id); // same name, other parent
    });

    it('refuses a duplicate name at the top level (where parent_id is NULL)', async () => {
      await create(`Toys ${run}`);
      const duplicate = await call('POST', '/categories', { token: staff, body: { name: `toys ${run}` } });
      expect(duplicate.status).to.equal(409);
      expect(detailPaths(duplicate.body)).to.deep.equal(['name']);
    });

    it('refuses renames and moves that would duplicate a sibling name', async () => {
      const root = await create(`Music ${run}`);
      const guitars = await create(`Guitars ${run}`, root.id);
      await create(`Drums ${run}`, root.id);
      const rename = await call('PATCH', `/categories/${guitars.id}`, { token: staff, body: { name: `DRUMS ${run}` } });
      expect(rename.status).to.equal(409);

      // A root named like the child already exists: moving the child to the top level collides.
      await create(`Guitars ${run}`);
      const toRoot = await call('PATCH', `/categories/${guitars.id}`, { token: staff, body: { parentId: null } });
      expect(toRoot.status).to.equal(409);
      expect(detailPaths(toRoot.body)).to.deep.equal(['name']);
    });

    it('rejects an unknown parent with 400 naming parentId', async () => {
      const created = await call('POST', '/categories', { token: staff, body: { name: `Orphan ${run}`, parentId: randomUUID() } });
      expect(created.status).to.equal(400);
      expect(created.body.error.code).to.equal('validation_failed');
      expect(detailPaths(created.body)).to.deep.equal(['parentId']);

      const category = await create(`Foundling ${run}`);
      const moved = await call('PATCH', `/categories/${category.id}`, { token: staff, body: { parentId: randomUUID() } });
      expect(moved.status).to.equal(400);
      expect(detailPaths(moved.body)).to.deep.equal(['parentId']);
    });

    it('refuses to move a category under itself or a descendant (400 naming parentId), and moves it elsewhere', async () => {
      const a = await create(`Cycle A ${run}`);
      const b = await create(`Cycle B ${run}`, a.id);
      const c = await create(`Cycle C ${run}`, b.id);
      for (const parentId of [a.id, b.id, c.id]) {
        const moved = await call('PATCH', `/categories/${a.id}`, { token: staff, body: { parentId } });
        expect(moved.status, parentId).to.equal(400);
        expect(moved.body.error.code).to.equal('validation_failed');
        expect(detailPaths(moved.body)).to.deep.equal(['parentId']);
      }
      expect((await call('GET', `/categories/${a.id}`)).body.parentId).to.equal(null);

      // Moving C out from under B to the top, then B under C, is fine: no cycle.
      const cToRoot = await call('PATCH', `/categories/${c.id}`, { token: staff, body: { parentId: null } });
      expect(cToRoot.body.parentId).to.equal(null);
      const bUnderC = await call('PATCH', `/categories/${b.id}`, { token: staff, body: { parentId: c.id } });
      expect(bUnderC.status).to.equal(200);
      expect(bUnderC.body.parentId).to.equal(c.id);
    });

    it('refuses to delete a category that has sub-categories (409)', async () => {
      const parent = await create(`Books ${run}`);
      const child = await create(`Novels ${run}`, parent.id);
      const refused = await call('DELETE', `/categories/${parent.id}`, { token: staff });
      expect(refused.status).to.equal(409);
      expect(refused.body.error.code).to.equal('conflict');
      expect((await call('DELETE', `/categories/${child.id}`, { token: staff })).status).to.equal(204);
      expect((await call('DELETE', `/categories/${parent.id}`, { token: staff })).status).to.equal(204);
    });
  });

  it('rejects bad input with 400 naming the field', async () => {
    const empty = await call('POST', '/categories', { token: staff, body: { name: '  ' } });
    expect(empty.status).to.equal(400);
    expect(detailPaths(empty.body)).to.deep.equal(['name']);
    const badParent = await call('POST', '/categories', { token: staff, body: { name: `X ${run}`, parentId: 'nope' } });
    expect(detailPaths(badParent.body)).to.deep.equal(['parentId']);
    const unknownField = await call('POST', '/categories', { token: staff, body: { name: `Y ${run}`, colour: 'red' } });
    expect(detailPaths(unknownField.body)).to.deep.equal(['colour']);
    const badQuery = await call('GET', '/categories?parentId=nope');
    expect(badQuery.status).to.equal(400);
    expect(detailPaths(badQuery.body)).to.deep.equal(['parentId']);
    const both = await call('GET', `/categories?parentId=${randomUUID()}&roots=true`);
    expect(detailPaths(both.body)).to.deep.equal(['roots']);
    expect(detailPaths((await call('GET', '/categories?roots=yes')).body)).to.deep.equal(['roots']);
  });

  it('lets anyone read but only staff write', async () => {
    expect((await call('GET', '/categories')).status).to.equal(200);
    expect((await call('POST', '/categories', { body: { name: `Anon ${run}` } })).status).to.equal(401);
    expect((await call('POST', '/categories', { token: customer, body: { name: `Cust ${run}` } })).status).to.equal(403);
    expect((await call('DELETE', `/categories/${randomUUID()}`, { token: customer })).status).to.equal(403);
  });

  it('serves health, readiness and its OpenAPI document', async () => {
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    expect((await fetch(`${base}/ready`)).status).to.equal(200);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).to.include.members(['/categories', '/categories/{id}']);
    expect(Object.keys(doc.paths['/categories/{id}']!)).to.include.members(['get', 'patch', 'delete']);
  });
});
