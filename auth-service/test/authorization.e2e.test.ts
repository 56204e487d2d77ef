import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { adminCredentials, api, serviceUrl } from '@mart/common/testing';

type Who = 'anonymous' | 'customer' | 'staff' | 'admin';
const everyone: Who[] = ['anonymous', 'customer', 'staff', 'admin'];

interface Endpoint {
  service: 'auth-service' | 'user-service' | 'customer-service' | 'brand-service';
  method: string;
  path: string;
  /** Expected status for anonymous, customer, staff, admin. */
  expected: [number, number, number, number];
  /** Builds a fresh request for one attempt, e.g. a new user to delete; the path may name it with :id. */
  prepare?(): Promise<{ id?: string; body?: unknown }>;
}

// Every protected endpoint so far, called by each kind of principal with tokens auth-service
// really issued. Allowed calls carry valid input, so they succeed; denied ones never get that far.
describe('authorization matrix end to end (auth, users, customers, brands)', () => {
  const run = randomUUID().slice(0, 8);
  const password = 'correct horse battery';
  const auth = api(serviceUrl('auth-service'));
  const users = api(serviceUrl('user-service'));
  const customers = api(serviceUrl('customer-service'));
  const brands = api(serviceUrl('brand-service'));
  const tokens: Partial<Record<Who, string>> = {};
  const ids = { staff: '', customer: '', brand: '' };
  let counter = 0;
  const unique = (tag: string) => `${tag}-${run}-${++counter}`;

  async function newUser(): Promise<string> {
    const res = await users.call('POST', '/users', {
      token: tokens.admin,
      body: { email: `${unique('matrix-user')}@mart.test`, name: 'Matrix', password, role: 'staff' },
    });
    return res.body.id;
  }

  async function newCustomer(): Promise<string> {
    const res = await customers.call('POST', '/customers', {
      body: { email: `${unique('matrix-customer')}@example.com`, password, name: 'Matrix' },
    });
    return res.body.id;
  }

  async function newBrand(): Promise<string> {
    return (await brands.call('POST', '/brands', { token: tokens.admin, body: { name: unique('Matrix brand') } })).body.id;
  }

  const endpoints: Endpoint[] = [
    { service: 'auth-service', method: 'GET', path: '/auth/me', expected: [401, 200, 200, 200] },

    {
      service: 'user-service',
      method: 'POST',
      path: '/users',
      expected: [401, 403, 403, 201],
      prepare: async () => ({ body: { email: `${unique('matrix-new')}@mart.test`, name: 'New', password, role: 'staff' } }),
    },
    { service: 'user-service', method: 'GET', path: '/users', expected: [401, 403, 403, 200] },
    { service: 'user-service', method: 'GET', path: '/users/:staff', expected: [401, 403, 403, 200] },
    {
      service: 'user-service',
      method: 'PATCH',
      path: '/users/:staff',
      expected: [401, 403, 403, 200],
      prepare: async () => ({ body: { name: 'Renamed' } }),
    },
    {
      service: 'user-service',
      method: 'DELETE',
      path: '/users/:id',
      expected: [401, 403, 403, 204],
      prepare: async () => ({ id: await newUser() }),
    },

    { service: 'customer-service', method: 'GET', path: '/customers/me', expected: [401, 200, 403, 403] },
    {
      service: 'customer-service',
      method: 'PATCH',
      path: '/customers/me',
      expected: [401, 200, 403, 403],
      prepare: async () => ({ body: { name: 'Renamed' } }),
    },
    {
      service: 'customer-service',
      method: 'POST',
      path: '/customers/me/password',
      expected: [401, 204, 403, 403],
      prepare: async () => ({ body: { currentPassword: password, newPassword: password } }),
    },
    { service: 'customer-service', method: 'GET', path: '/customers', expected: [401, 403, 200, 200] },
    { service: 'customer-service', method: 'GET', path: '/customers/:customer', expected: [401, 403, 200, 200] },
    {
      service: 'customer-service',
      method: 'DELETE',
      path: '/customers/:id',
      expected: [401, 403, 403, 204],
      prepare: async () => ({ id: await newCustomer() }),
    },

    {
      service: 'brand-service',
      method: 'POST',
      path: '/brands',
      expected: [401, 403, 201, 201],
      prepare: async () => ({ body: { name: unique('Matrix new brand') } }),
    },
    {
      service: 'brand-service',
      method: 'PATCH',
      path: '/brands/:brand',
      expected: [401, 403, 200, 200],
      prepare: async () => ({ body: { description: 'changed' } }),
    },
    {
      service: 'brand-service',
      method: 'DELETE',
      path: '/brands/:id',
      expected: [401, 403, 204, 204],
      prepare: async () => ({ id: await newBrand() }),
    },
  ];

  const clients = { 'auth-service': auth, 'user-service': users, 'customer-service': customers, 'brand-service': brands };

  before(async () => {
    tokens.admin = (await auth.call('POST', '/auth/admin/login', { body: adminCredentials() })).body.accessToken;
    ids.staff = await newUser();
    const staffUser = await users.call('GET', `/users/${ids.staff}`, { token: tokens.admin });
    tokens.staff = (await auth.call('POST', '/auth/admin/login', { body: { email: staffUser.body.email, password } })).body.accessToken;
    ids.customer = await newCustomer();
    const customer = await customers.call('GET', `/customers/${ids.customer}`, { token: tokens.staff });
    tokens.customer = (await auth.call('POST', '/auth/login', { body: { email: customer.body.email, password } })).body.accessToken;
    ids.brand = await newBrand();
    for (const who of ['admin', 'staff', 'customer'] as const) expect(tokens[who], `${who} token`).to.be.a('string');
  });

  for (const endpoint of endpoints) {
    everyone.forEach((who, index) => {
      const expected = endpoint.expected[index]!;
      it(`${endpoint.method} ${endpoint.path} as ${who} → ${expected}`, async () => {
        const { id, body } = (await endpoint.prepare?.()) ?? {};
        const path = endpoint.path
          .replace(':staff', ids.staff)
          .replace(':customer', ids.customer)
          .replace(':brand', ids.brand)
          .replace(':id', id ?? '');
        const token = who === 'anonymous' ? undefined : tokens[who];
        const res = await clients[endpoint.service].call(endpoint.method, path, { token, body });
        expect(res.status, JSON.stringify(res.body)).to.equal(expected);
        if (expected === 401) expect(res.body.error.code).to.equal('unauthorized');
        if (expected === 403) expect(res.body.error.code).to.equal('forbidden');
      });
    });
  }
});
