import { expect } from 'chai';
import request from 'supertest';
import { ConfigError, loadConfig } from '@mart/common/config';
import { verifyPassword } from '@mart/common/credentials';
import { ConflictError } from '@mart/common/errors';
import { fakeRpc, generateTestKeys, mintToken, routeTestApp } from '@mart/common/testing';
import { mart } from '@mart/proto';
import { developmentAdmin, userConfigSchema } from '../src/config.ts';
import { userRoutes } from '../src/user.routes.ts';
import { userService } from '../src/user.service.ts';

const { ADMIN, STAFF } = { ADMIN: mart.user.StaffRole.STAFF_ROLE_ADMIN, STAFF: mart.user.StaffRole.STAFF_ROLE_STAFF };

describe('user routes (fake rpc)', () => {
  const keys = generateTestKeys();
  const stored = {
    id: 'u1',
    email: 'sam@mart.test',
    name: 'Sam',
    role: STAFF,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  // What db-service stores: the request's fields minus the hash, which a User reply has no field for.
  const storing = ({ passwordHash: _, ...fields }: { passwordHash?: string | null }) => ({ ...stored, ...fields });
  const rpc = fakeRpc({
    'user.create': storing,
    'user.update': storing,
    'user.list': () => ({ items: [stored], page: { page: 1, pageSize: 20, total: 1 } }),
  });
  const { calls } = rpc;
  const app = routeTestApp(userRoutes({ rpc }, { bcryptCost: 4 }), keys.publicKey);
  const admin = `Bearer ${mintToken(keys.privateKey, { kind: 'user', role: 'admin' })}`;
  const staff = `Bearer ${mintToken(keys.privateKey, { kind: 'user', role: 'staff' })}`;
  const id = '5d3b6a8e-2c1f-4e8a-9b7d-1a2b3c4d5e6f';

  beforeEach(() => {
    calls.length = 0;
    rpc.failWith = undefined;
  });

  it('creates a user with a bcrypt hash of the password, and replies without it', async () => {
    const res = await request(app)
      .post('/users')
      .set('authorization', admin)
      .send({ email: ' Sam@Mart.TEST ', name: 'Sam', password: 'long enough', role: 'admin' });
    expect(res.status).to.equal(201);
    expect(calls.map((call) => call.name)).to.deep.equal(['user.create']);
    const [sent] = rpc.sent('user.create');
    expect(sent).to.include({ email: 'sam@mart.test', name: 'Sam', role: ADMIN });
    expect(sent?.id).to.match(/^[0-9a-f-]{36}$/);
    expect(sent?.passwordHash).to.match(/^\$2b\$04\$/);
    expect(await verifyPassword('long enough', sent?.passwordHash ?? '')).to.equal(true);
    expect(res.body).to.deep.equal({ ...stored, id: sent?.id, email: 'sam@mart.test', role: 'admin' });
    expect(JSON.stringify(res.body)).not.to.match(/long enough|\$2b\$/);
  });

  it('hashes a new password on update, and sends only what changed', async () => {
    await request(app).patch(`/users/${id}`).set('authorization', admin).send({ password: 'another long one' });
    const [passwordChange] = rpc.sent('user.update');
    expect(passwordChange?.passwordHash).to.match(/^\$2b\$/);
    expect(passwordChange).to.include({ id, name: undefined, role: undefined });
    await request(app).patch(`/users/${id}`).set('authorization', admin).send({ role: 'staff' });
    expect(rpc.sent('user.update')[1]).to.include({ role: STAFF, passwordHash: undefined });
  });

  it('rejects bad bodies with 400 naming each field, before any command', async () => {
    const create = await request(app)
      .post('/users')
      .set('authorization', admin)
      .send({ email: 'x', name: '', password: 'short', role: 'owner' });
    expect(create.status).to.equal(400);
    expect(create.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal(['email', 'name', 'password', 'role']);
    const empty = await request(app).patch(`/users/${id}`).set('authorization', admin).send({});
    expect(empty.status).to.equal(400);
    // bcrypt would silently ignore everything past 72 bytes.
    const long = await request(app)
      .patch(`/users/${id}`)
      .set('authorization', admin)
      .send({ password: 'é'.repeat(37) });
    expect(long.body.error.details[0].path).to.equal('password');
    expect(calls).to.have.length(0);
  });

  it('passes the last-admin conflict through as 409', async () => {
    rpc.failWith = new ConflictError('The last admin cannot be demoted', [{ path: 'role', message: 'is the last admin' }]);
    const res = await request(app).patch(`/users/${id}`).set('authorization', admin).send({ role: 'staff' });
    expect(res.status).to.equal(409);
    expect(res.body.error).to.include({ code: 'conflict', message: 'The last admin cannot be demoted' });
  });

  it('is for admins only', async () => {
    const routes: [string, string][] = [
      ['post', '/users'],
      ['get', '/users'],
      ['get', `/users/${id}`],
      ['patch', `/users/${id}`],
      ['delete', `/users/${id}`],
    ];
    for (const [method, path] of routes) {
      expect((await request(app)[method as 'get'](path).set('authorization', staff)).status, `${method} ${path}`).to.equal(403);
      expect((await request(app)[method as 'get'](path)).status, `${method} ${path}`).to.equal(401);
    }
    expect(calls).to.have.length(0);
  });
});

describe('user-service configuration and first admin', () => {
  it('uses the documented development admin outside production', () => {
    const config = loadConfig(userConfigSchema, { NODE_ENV: 'development', ADMIN_EMAIL: '' });
    expect(config).to.include({ ADMIN_EMAIL: developmentAdmin.email, ADMIN_PASSWORD: developmentAdmin.password, PORT: 8002 });
  });

  it('requires the admin variables in production, naming each', () => {
    expect(() => loadConfig(userConfigSchema, { NODE_ENV: 'production' })).to.throw(ConfigError, /ADMIN_EMAIL[\s\S]*ADMIN_PASSWORD/);
    expect(() =>
      loadConfig(userConfigSchema, { NODE_ENV: 'production', ADMIN_EMAIL: 'root@shop.example', ADMIN_PASSWORD: developmentAdmin.password }),
    ).to.throw(ConfigError, /ADMIN_PASSWORD: must not be the development default/);
    const config = loadConfig(userConfigSchema, {
      NODE_ENV: 'production',
      ADMIN_EMAIL: 'Root@Shop.example',
      ADMIN_PASSWORD: 's3cret-enough',
    });
    expect(config).to.include({ ADMIN_EMAIL: 'root@shop.example', ADMIN_PASSWORD: 's3cret-enough' });
  });

  it('bootstraps the admin with a hash, never the password', async () => {
    const rpc = fakeRpc({ 'user.ensure-admin': () => ({ created: true }) });
    const created = await userService(rpc, { bcryptCost: 4 }).ensureAdmin({
      email: 'a@mart.local',
      password: 'first admin pw',
      name: 'Admin',
    });
    expect(created).to.equal(true);
    const [sent] = rpc.sent('user.ensure-admin');
    expect(sent).to.include({ email: 'a@mart.local', name: 'Admin' });
    expect(await verifyPassword('first admin pw', sent?.passwordHash ?? '')).to.equal(true);
    expect(JSON.stringify(sent)).not.to.include('first admin pw');
  });
});
