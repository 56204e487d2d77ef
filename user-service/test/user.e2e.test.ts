import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { adminCredentials, api, serviceUrl } from '@mart/common/testing';

interface UserDto {
  id: string;
  email: string;
  role: 'admin' | 'staff';
}

// Drives user-service (with auth-service for real tokens) over HTTP.
describe('/users end to end', () => {
  const users = api(serviceUrl('user-service'));
  const auth = api(serviceUrl('auth-service'));
  const run = randomUUID().slice(0, 8);
  const password = 'correct horse battery';
  let admin: string;

  async function login(email: string, secret = password) {
    const res = await auth.call('POST', '/auth/admin/login', { body: { email, password: secret } });
    expect(res.status, `${email}: ${JSON.stringify(res.body)}`).to.equal(200);
    return res.body as { accessToken: string; refreshToken: string };
  }

  async function createUser(tag: string, role: 'admin' | 'staff', token = admin): Promise<UserDto> {
    const res = await users.call('POST', '/users', { token, body: { email: `${tag}-${run}@mart.test`, name: tag, password, role } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  async function allUsers(token: string): Promise<UserDto[]> {
    const found: UserDto[] = [];
    for (let page = 1; ; page++) {
      const res = await users.call('GET', `/users?page=${page}&pageSize=100`, { token });
      found.push(...res.body.items);
      if (found.length >= res.body.total) return found;
    }
  }

  before(async () => {
    admin = (await login(adminCredentials().email, adminCredentials().password)).accessToken;
  });

  it('lets an admin create a staff user, who can log in but cannot manage users', async () => {
    const created = await users.call('POST', '/users', {
      token: admin,
      body: { email: `  Sam-${run}@Mart.TEST`, name: 'Sam', password, role: 'staff' },
    });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ email: `sam-${run}@mart.test`, name: 'Sam', role: 'staff' });
    expect(created.body).to.have.all.keys('id', 'email', 'name', 'role', 'createdAt', 'updatedAt');
    expect(JSON.stringify(created.body)).not.to.match(/correct horse|\$2[aby]\$/);
    expect((await users.call('GET', `/users/${created.body.id}`, { token: admin })).body).to.deep.equal(created.body);

    const staff = (await login(`sam-${run}@mart.test`)).accessToken;
    expect((await auth.call('GET', '/auth/me', { token: staff })).body).to.include({ kind: 'user', role: 'staff', sub: created.body.id });
    const attempts: [string, string, unknown?][] = [
      ['POST', '/users', { email: `x-${run}@mart.test`, name: 'X', password, role: 'admin' }],
      ['GET', '/users'],
      ['GET', `/users/${created.body.id}`],
      ['PATCH', `/users/${created.body.id}`, { role: 'admin' }],
      ['DELETE', `/users/${created.body.id}`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await users.call(method, path, { token: staff, body });
      expect(res.status, `${method} ${path}`).to.equal(403);
      expect(res.body.error.code).to.equal('forbidden');
    }
    expect((await users.call('GET', `/users/${created.body.id}`, { token: admin })).body.role).to.equal('staff');
  });

  it('refuses a duplicate email with 409, and bad bodies with 400 naming each field', async () => {
    await createUser('dup', 'staff');
    const duplicate = await users.call('POST', '/users', {
      token: admin,
      body: { email: `DUP-${run}@mart.test`, name: 'D', password, role: 'staff' },
    });
    expect(duplicate.status).to.equal(409);
    expect(duplicate.body.error.details[0].path).to.equal('email');
    const bad = await users.call('POST', '/users', { token: admin, body: { email: 'x', name: '', password: 'short', role: 'root' } });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal(['email', 'name', 'password', 'role']);
    const badPatch = await users.call('PATCH', `/users/${randomUUID()}`, { token: admin, body: { role: 'owner' } });
    expect(badPatch.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['role']);
    expect((await users.call('PATCH', `/users/${randomUUID()}`, { token: admin, body: { name: 'Ghost' } })).status).to.equal(404);
  });

  it('updates and deletes staff accounts; a new role arrives with the next refresh, a new password ends sessions', async () => {
    const user = await createUser('changing', 'staff');
    const session = await login(user.email);
    const promoted = await users.call('PATCH', `/users/${user.id}`, { token: admin, body: { name: 'Changed', role: 'admin' } });
    expect(promoted.body).to.include({ name: 'Changed', role: 'admin' });
    const refreshed = await auth.call('POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } });
    expect((await auth.call('GET', '/auth/me', { token: refreshed.body.accessToken })).body.role).to.equal('admin');

    expect((await users.call('PATCH', `/users/${user.id}`, { token: admin, body: { password: 'a new password' } })).status).to.equal(200);
    expect((await auth.call('POST', '/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } })).status).to.equal(401);
    const fresh = await login(user.email, 'a new password');

    expect((await users.call('DELETE', `/users/${user.id}`, { token: admin })).status).to.equal(204);
    expect((await users.call('GET', `/users/${user.id}`, { token: admin })).status).to.equal(404);
    expect((await auth.call('POST', '/auth/refresh', { body: { refreshToken: fresh.refreshToken } })).status).to.equal(401);
    expect((await auth.call('POST', '/auth/admin/login', { body: { email: user.email, password: 'a new password' } })).status).to.equal(
      401,
    );
  });

  it('never lets the last admin be demoted or deleted', async () => {
    // A fresh admin demotes every other admin, so that it is the last one; the others are restored after.
    const last = await createUser('last-admin', 'admin');
    const token = (await login(last.email)).accessToken;
    const others = (await allUsers(token)).filter((user) => user.role === 'admin' && user.id !== last.id);
    try {
      for (const other of others) {
        expect((await users.call('PATCH', `/users/${other.id}`, { token, body: { role: 'staff' } })).status).to.equal(200);
      }
      const demote = await users.call('PATCH', `/users/${last.id}`, { token, body: { role: 'staff' } });
      expect(demote.status).to.equal(409);
      expect(demote.body.error.code).to.equal('conflict');
      expect(demote.body.error.message).to.match(/last admin/);
      const remove = await users.call('DELETE', `/users/${last.id}`, { token });
      expect(remove.status).to.equal(409);
      expect((await users.call('GET', `/users/${last.id}`, { token })).body.role).to.equal('admin');
    } finally {
      for (const other of others) await users.call('PATCH', `/users/${other.id}`, { token, body: { role: 'admin' } });
    }
    // With another admin back, the same account can step down.
    expect((await users.call('PATCH', `/users/${last.id}`, { token: admin, body: { role: 'staff' } })).status).to.equal(200);
  });
});
