import { expect } from 'chai';
import request from 'supertest';
import { hashPassword, verifyPassword } from '@mart/common/credentials';
import { ConflictError } from '@mart/common/errors';
import { fakeRpc, generateTestKeys, mintToken, routeTestApp } from '@mart/common/testing';
import { mart } from '@mart/proto';
import { customerRoutes } from '../src/customer.routes.ts';

describe('customer routes (fake rpc)', () => {
  const keys = generateTestKeys();
  const me = { sub: '5d3b6a8e-2c1f-4e8a-9b7d-1a2b3c4d5e6f', email: 'ada@example.com' };
  const stored = { id: me.sub, email: me.email, name: 'Ada', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
  let currentHash: string;
  let credentialsOwner = me.sub;
  const rpc = fakeRpc({
    'auth.get-credentials': (request) => ({
      found: true,
      principalId: credentialsOwner,
      email: request.email,
      passwordHash: currentHash,
      role: '',
    }),
    'customer.list': () => ({ items: [stored], page: { page: 2, pageSize: 5, total: 6 } }),
    'customer.set-password': () => ({}),
    'customer.delete': () => ({}),
    // What db-service stores: the request's fields minus the hash, which a Customer reply has no field for.
    'customer.register': ({ passwordHash: _, ...fields }) => ({ ...stored, ...fields }),
    'customer.get': (request) => ({ ...stored, ...request }),
    'customer.update': (request) => ({ ...stored, ...request }),
  });
  const { calls } = rpc;
  const app = routeTestApp(customerRoutes({ rpc }, { bcryptCost: 4 }), keys.publicKey);
  const customer = `Bearer ${mintToken(keys.privateKey, { kind: 'customer', ...me })}`;
  const staff = `Bearer ${mintToken(keys.privateKey, { kind: 'user', role: 'staff' })}`;

  before(async () => {
    currentHash = await hashPassword('old password', 4);
  });

  beforeEach(() => {
    calls.length = 0;
    rpc.failWith = undefined;
    credentialsOwner = me.sub;
  });

  it('registers with a lower-cased, trimmed email and a bcrypt hash, and replies without a password', async () => {
    const res = await request(app).post('/customers').send({ email: '  Ada@Example.COM ', password: 'correct horse', name: ' Ada ' });
    expect(res.status).to.equal(201);
    expect(calls.map((call) => call.name)).to.deep.equal(['customer.register']);
    const [sent] = rpc.sent('customer.register');
    expect(sent).to.include({ email: 'ada@example.com', name: 'Ada' });
    expect(await verifyPassword('correct horse', sent?.passwordHash ?? '')).to.equal(true);
    expect(res.body).to.have.all.keys('id', 'email', 'name', 'phone', 'createdAt', 'updatedAt');
    expect(res.body.phone).to.equal(null);
    expect(JSON.stringify(res.body)).not.to.match(/correct horse|\$2b\$/);
  });

  it('names the password when it is shorter than 8 characters, and every other bad field', async () => {
    const res = await request(app).post('/customers').send({ email: 'ada@', password: 'seven77', phone: 'call me' });
    expect(res.status).to.equal(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal(['email', 'name', 'password', 'phone']);
    expect(calls).to.have.length(0);
  });

  it('maps a duplicate email to 409', async () => {
    rpc.failWith = new ConflictError('A customer with this email is already registered', [
      { path: 'email', message: 'already registered' },
    ]);
    const res = await request(app).post('/customers').send({ email: 'ada@example.com', password: 'correct horse', name: 'Ada' });
    expect(res.status).to.equal(409);
    expect(res.body.error.details[0].path).to.equal('email');
  });

  it('reads and updates only the account in the token', async () => {
    expect((await request(app).get('/customers/me').set('authorization', customer)).body.id).to.equal(me.sub);
    expect(calls[0]).to.deep.include({ name: 'customer.get', request: { id: me.sub } });
    await request(app).patch('/customers/me').set('authorization', customer).send({ phone: null });
    expect(calls[1]!.request).to.deep.include({ id: me.sub, phone: '' });
    expect((await request(app).get('/customers/me').set('authorization', staff)).status).to.equal(403);
  });

  describe('password change', () => {
    it('checks the current password and stores a hash of the new one', async () => {
      const res = await request(app)
        .post('/customers/me/password')
        .set('authorization', customer)
        .send({ currentPassword: 'old password', newPassword: 'new password' });
      expect(res.status).to.equal(204);
      expect(calls[0]!.request).to.deep.equal({ kind: mart.auth.PrincipalKind.PRINCIPAL_KIND_CUSTOMER, email: me.email });
      expect(calls.map((call) => call.name)).to.deep.equal(['auth.get-credentials', 'customer.set-password']);
      const [set] = rpc.sent('customer.set-password');
      expect(set?.id).to.equal(me.sub);
      expect(await verifyPassword('new password', set?.passwordHash ?? '')).to.equal(true);
    });

    it('refuses a wrong current password with 401 and changes nothing', async () => {
      const res = await request(app)
        .post('/customers/me/password')
        .set('authorization', customer)
        .send({ currentPassword: 'not it at all', newPassword: 'new password' });
      expect(res.status).to.equal(401);
      expect(calls.map((c) => c.name)).to.deep.equal(['auth.get-credentials']);
    });

    it('answers 404 when the email now belongs to another account than the token’s', async () => {
      credentialsOwner = '0b6f4a36-5b43-4d37-9d0f-6d0f7f1c2a11';
      const res = await request(app)
        .post('/customers/me/password')
        .set('authorization', customer)
        .send({ currentPassword: 'old password', newPassword: 'new password' });
      expect(res.status).to.equal(404);
      expect(calls.map((c) => c.name)).to.deep.equal(['auth.get-credentials']);
    });

    it('applies the password rule to the new password', async () => {
      const res = await request(app)
        .post('/customers/me/password')
        .set('authorization', customer)
        .send({ currentPassword: 'x', newPassword: 'short' });
      expect(res.status).to.equal(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['newPassword']);
    });
  });

  it('lets staff list customers with paging and an email filter', async () => {
    const res = await request(app).get('/customers?page=2&pageSize=5&email=ADA').set('authorization', staff);
    expect(res.body).to.include({ page: 2, pageSize: 5, total: 6 });
    expect(res.body.items[0]).to.deep.equal({ ...stored, phone: null });
    expect(calls[0]!.request).to.deep.equal({ page: { page: 2, pageSize: 5 }, email: 'ADA' });
    expect((await request(app).get('/customers').set('authorization', customer)).status).to.equal(403);
  });
});
