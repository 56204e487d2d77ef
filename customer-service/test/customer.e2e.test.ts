import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { adminCredentials, api, serviceUrl, testKafka, waitForMessage } from '@mart/common/testing';
import { headers, mart, topics } from '@mart/proto';

// Drives customer-service (with auth-service for real tokens) over HTTP.
describe('/customers end to end', () => {
  const customers = api(serviceUrl('customer-service'));
  const auth = api(serviceUrl('auth-service'));
  const users = api(serviceUrl('user-service'));
  const run = randomUUID().slice(0, 8);
  const password = 'correct horse battery';
  let admin: string;
  let staff: string;

  async function registerAndLogin(tag: string) {
    const email = `${tag}-${run}@example.com`;
    const created = await customers.call('POST', '/customers', { body: { email, password, name: `Customer ${tag}` } });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const login = await auth.call('POST', '/auth/login', { body: { email, password } });
    expect(login.status).to.equal(200);
    return {
      id: created.body.id as string,
      email,
      token: login.body.accessToken as string,
      refreshToken: login.body.refreshToken as string,
    };
  }

  before(async () => {
    admin = (await auth.call('POST', '/auth/admin/login', { body: adminCredentials() })).body.accessToken;
    const staffEmail = `customer-staff-${run}@mart.test`;
    expect(
      (await users.call('POST', '/users', { token: admin, body: { email: staffEmail, name: 'Staff', password, role: 'staff' } })).status,
    ).to.equal(201);
    staff = (await auth.call('POST', '/auth/admin/login', { body: { email: staffEmail, password } })).body.accessToken;
  });

  it('registers a customer with a lower-cased email, never returns a password, and publishes customer.registered', async () => {
    const created = await customers.call('POST', '/customers', {
      body: { email: `  Grace-${run}@Example.COM `, password, name: 'Grace', phone: '+44 20 7946 0000' },
    });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ email: `grace-${run}@example.com`, name: 'Grace', phone: '+44 20 7946 0000' });
    expect(created.body).to.have.all.keys('id', 'email', 'name', 'phone', 'createdAt', 'updatedAt');
    expect(JSON.stringify(created.body)).not.to.match(/correct horse|\$2[aby]\$/);

    const event = await waitForMessage(testKafka(), topics.customerEvents, (m) => m.key?.toString() === created.body.id);
    expect(event.headers?.[headers.type]?.toString()).to.equal('customer.registered');
    const payload = mart.customer.CustomerRegistered.decode(event.value!);
    expect(payload.customer).to.include({ id: created.body.id, email: `grace-${run}@example.com`, name: 'Grace' });
    expect(event.value!.toString('latin1')).not.to.match(/\$2[aby]\$/);
  });

  it('refuses a duplicate email, whatever its case, with 409 conflict', async () => {
    const { email } = await registerAndLogin('dup');
    const duplicate = await customers.call('POST', '/customers', { body: { email: ` ${email.toUpperCase()}`, password, name: 'Again' } });
    expect(duplicate.status).to.equal(409);
    expect(duplicate.body.error.code).to.equal('conflict');
    expect(duplicate.body.error.details[0].path).to.equal('email');
  });

  it('rejects bad bodies with 400 naming each field', async () => {
    const short = await customers.call('POST', '/customers', {
      body: { email: `short-${run}@example.com`, password: 'seven77', name: 'S' },
    });
    expect(short.status).to.equal(400);
    expect(short.body.error.code).to.equal('validation_failed');
    expect(short.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['password']);
    const many = await customers.call('POST', '/customers', { body: { email: 'nope', name: 42, phone: 'x', admin: true } });
    expect(many.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal([
      'admin',
      'email',
      'name',
      'password',
      'phone',
    ]);
    const { token } = await registerAndLogin('badpatch');
    const patch = await customers.call('PATCH', '/customers/me', { token, body: { email: 'new@example.com' } });
    expect(patch.status).to.equal(400);
    expect(patch.body.error.details.map((d: { path: string }) => d.path)).to.include('email');
  });

  it('keeps customer A out of customer B’s account', async () => {
    const a = await registerAndLogin('a');
    const b = await registerAndLogin('b');
    expect((await customers.call('GET', '/customers/me', { token: a.token })).body.id).to.equal(a.id);
    expect((await customers.call('GET', `/customers/${b.id}`, { token: a.token })).status).to.equal(403);
    expect((await customers.call('GET', '/customers', { token: a.token })).status).to.equal(403);
    expect((await customers.call('DELETE', `/customers/${b.id}`, { token: a.token })).status).to.equal(403);

    const patched = await customers.call('PATCH', '/customers/me', { token: a.token, body: { name: 'A renamed', phone: '+1 555 0100' } });
    expect(patched.body).to.include({ id: a.id, name: 'A renamed', phone: '+1 555 0100' });
    const bAsStaffSeesIt = await customers.call('GET', `/customers/${b.id}`, { token: staff });
    expect(bAsStaffSeesIt.body).to.include({ id: b.id, name: 'Customer b', phone: null });
  });

  it('changes the password: the old one and every session stop working', async () => {
    const c = await registerAndLogin('pw');
    const wrong = await customers.call('POST', '/customers/me/password', {
      token: c.token,
      body: { currentPassword: 'not my password', newPassword: 'a brand new one' },
    });
    expect(wrong.status).to.equal(401);
    const changed = await customers.call('POST', '/customers/me/password', {
      token: c.token,
      body: { currentPassword: password, newPassword: 'a brand new one' },
    });
    expect(changed.status).to.equal(204);
    expect((await auth.call('POST', '/auth/refresh', { body: { refreshToken: c.refreshToken } })).status).to.equal(401);
    expect((await auth.call('POST', '/auth/login', { body: { email: c.email, password } })).status).to.equal(401);
    expect((await auth.call('POST', '/auth/login', { body: { email: c.email, password: 'a brand new one' } })).status).to.equal(200);
  });

  it('lets staff find customers, and only an admin delete one', async () => {
    const c = await registerAndLogin('listed');
    const found = await customers.call('GET', `/customers?email=${encodeURIComponent(`listed-${run}`)}`, { token: staff });
    expect(found.status).to.equal(200);
    expect(found.body).to.include({ total: 1, page: 1, pageSize: 20 });
    expect(found.body.items[0]).to.include({ id: c.id, email: c.email });

    expect((await customers.call('DELETE', `/customers/${c.id}`, { token: staff })).status).to.equal(403);
    expect((await customers.call('DELETE', `/customers/${c.id}`, { token: admin })).status).to.equal(204);
    expect((await customers.call('GET', `/customers/${c.id}`, { token: staff })).status).to.equal(404);
    expect((await customers.call('GET', '/customers/me', { token: c.token })).status).to.equal(404);
    expect((await auth.call('POST', '/auth/refresh', { body: { refreshToken: c.refreshToken } })).status).to.equal(401);
    expect((await auth.call('POST', '/auth/login', { body: { email: c.email, password } })).status).to.equal(401);
    expect((await customers.call('DELETE', `/customers/${c.id}`, { token: admin })).status).to.equal(404);
  });
});
