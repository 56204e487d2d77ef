import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { api, mintToken, serviceUrl, stackKeys } from '@mart/common/testing';

// Drives the running brand-service over HTTP: HTTP → Kafka → db-service → PostgreSQL and back.
describe('/brands end to end', () => {
  const base = serviceUrl('brand-service');
  const keys = stackKeys();
  const staff = mintToken(keys.privateKey, { kind: 'user', role: 'staff' });
  const customer = mintToken(keys.privateKey, { kind: 'customer' });
  const run = randomUUID().slice(0, 8);

  const { call } = api(base);

  it('creates, reads, updates and deletes a brand', async () => {
    const created = await call('POST', '/brands', { token: staff, body: { name: `Acme ${run}`, description: 'Rockets' } });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ name: `Acme ${run}`, description: 'Rockets' });
    expect(created.body.id).to.match(/^[0-9a-f-]{36}$/);
    expect(new Date(created.body.createdAt).toISOString()).to.equal(created.body.createdAt);

    const read = await call('GET', `/brands/${created.body.id}`);
    expect(read.status).to.equal(200);
    expect(read.body).to.deep.equal(created.body);

    const renamed = await call('PATCH', `/brands/${created.body.id}`, {
      token: staff,
      body: { name: `Acme Corp ${run}`, description: null },
    });
    expect(renamed.status).to.equal(200);
    expect(renamed.body).to.include({ name: `Acme Corp ${run}`, description: null });

    const deleted = await call('DELETE', `/brands/${created.body.id}`, { token: staff });
    expect(deleted.status).to.equal(204);
    expect((await call('GET', `/brands/${created.body.id}`)).status).to.equal(404);
    expect((await call('DELETE', `/brands/${created.body.id}`, { token: staff })).status).to.equal(404);
  });

  it('refuses a duplicate name, whatever its case, with 409 conflict', async () => {
    expect((await call('POST', '/brands', { token: staff, body: { name: `Nimbus ${run}` } })).status).to.equal(201);
    const duplicate = await call('POST', '/brands', { token: staff, body: { name: `  NIMBUS ${run}` } });
    expect(duplicate.status).to.equal(409);
    expect(duplicate.body.error.code).to.equal('conflict');
    expect(duplicate.body.error.details[0].path).to.equal('name');
  });

  it('rejects bad input with 400 naming the field', async () => {
    const empty = await call('POST', '/brands', { token: staff, body: { name: '   ' } });
    expect(empty.status).to.equal(400);
    expect(empty.body.error.code).to.equal('validation_failed');
    expect(empty.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['name']);
    const wrongType = await call('POST', '/brands', { token: staff, body: { name: 42 } });
    expect(wrongType.body.error.details[0].path).to.equal('name');
    const badId = await call('GET', '/brands/not-a-uuid');
    expect(badId.status).to.equal(400);
    expect(badId.body.error.details[0].path).to.equal('id');
    const badPage = await call('GET', '/brands?pageSize=1000');
    expect(badPage.status).to.equal(400);
    expect(badPage.body.error.details[0].path).to.equal('pageSize');
  });

  it('lets anyone read but only staff write', async () => {
    expect((await call('GET', '/brands')).status).to.equal(200);
    const anonymous = await call('POST', '/brands', { body: { name: `Anon ${run}` } });
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body.error.code).to.equal('unauthorized');
    const asCustomer = await call('POST', '/brands', { token: customer, body: { name: `Cust ${run}` } });
    expect(asCustomer.status).to.equal(403);
    const forged = mintToken(keys.privateKey, { kind: 'user', role: 'admin' }, { issuer: 'somebody-else' });
    expect((await call('DELETE', `/brands/${randomUUID()}`, { token: forged })).status).to.equal(401);
  });

  it('pages through brands without overlap or gaps, with a total', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `Paged ${run} ${String(i).padStart(2, '0')}`);
    for (const name of names) expect((await call('POST', '/brands', { token: staff, body: { name } })).status).to.equal(201);
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const result = await call('GET', `/brands?q=${encodeURIComponent(`Paged ${run}`)}&page=${page}&pageSize=3`);
      expect(result.status).to.equal(200);
      expect(result.body).to.include({ page, pageSize: 3, total: 7 });
      seen.push(...result.body.items.map((b: { name: string }) => b.name));
    }
    expect(seen).to.deep.equal(names);
  });

  it('serves health, readiness, metrics and its OpenAPI document', async () => {
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    expect((await fetch(`${base}/ready`)).status).to.equal(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).to.match(/mart_rpc_duration_seconds_count\{command="brand.get",outcome="ok"\} [1-9]/);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).to.include.members(['/brands', '/brands/{id}']);
    expect(Object.keys(doc.paths['/brands/{id}']!)).to.include.members(['get', 'patch', 'delete']);
    expect((await fetch(`${base}/docs/`)).status).to.equal(200);
  });
});
