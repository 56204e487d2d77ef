import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { api, eventually, serviceUrl, type ApiResponse } from '@mart/common/testing';
import {
  classificationGaps,
  expectErrorBody,
  password,
  roles,
  send,
  servedEndpoints,
  signInEveryone,
  type EndpointKey,
  type Principals,
  type Role,
  type ServedEndpoint,
} from './endpoints.ts';

// Every endpoint of every running service, called as anonymous, customer A, customer B, a staff
// user and the admin, with tokens auth-service issued. Each call carries valid input aimed at a
// real resource (A's order, A's payment, ...), so an allowed call succeeds with the endpoint's
// documented status and a refused one is refused for who is asking, not for what is asked; where
// a refused call could have changed something, the resource is read before and after.

/** allowed: the documented success status. 404: another customer's resource, hidden (API.md). */
type Outcome = 'allowed' | 400 | 401 | 403 | 404;
type Matrix = Record<Role, Outcome>;

interface Cell {
  /** The path with its parameters filled in (and a query, if any). */
  path: string;
  body?: unknown;
  /** What a refused call must leave as it was: read before and after it. */
  observe?: () => Promise<unknown>;
}

interface Rule {
  matrix: Matrix;
  /** A valid request as `role`; `allowed` asks for a resource the call may use up (a new one). */
  cell(role: Role, allowed: boolean): Promise<Cell>;
}

const anyone: Matrix = { anonymous: 'allowed', customerA: 'allowed', customerB: 'allowed', staff: 'allowed', admin: 'allowed' };
const signedIn: Matrix = { ...anyone, anonymous: 401 };
const customers: Matrix = { anonymous: 401, customerA: 'allowed', customerB: 'allowed', staff: 403, admin: 403 };
const staffOnly: Matrix = { anonymous: 401, customerA: 403, customerB: 403, staff: 'allowed', admin: 'allowed' };
const adminOnly: Matrix = { ...staffOnly, staff: 403 };
/** A's own resource: B is told it does not exist; staff may see it. */
const ownerOrStaff: Matrix = { ...signedIn, customerB: 404 };
/** Paying is for the order's customer only. */
const ownerOnly: Matrix = { ...customers, customerB: 404 };
/** Stripe's signature is the webhook's only credential: a bearer token is no substitute, and nothing else gets in. */
const signatureOnly: Matrix = { anonymous: 400, customerA: 400, customerB: 400, staff: 400, admin: 400 };

describe('HTTP abuse: authorization matrix over every endpoint × {anonymous, customer A, customer B, staff, admin}', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  let seq = 0;
  const unique = (tag: string) => `${tag}-${run}-${++seq}`;
  const http = (service: string) => api(serviceUrl(service));
  let served: ServedEndpoint[] = [];
  let people: Principals;
  const shared = { brand: '', category: '', product: '', stockProduct: '', pendingOrder: '', paidOrder: '', payment: '', bOrder: '' };

  async function ok(response: Promise<ApiResponse>, status: number, what: string): Promise<ApiResponse['body']> {
    const result = await response;
    expect(result.status, `${what}: ${JSON.stringify(result.body)}`).to.equal(status);
    return result.body;
  }
  const asAdmin = (service: string, method: string, path: string, body?: unknown) =>
    http(service).call(method, path, { token: people.admin.token, ...(body !== undefined ? { body } : {}) });

  const newBrand = async () =>
    (await ok(asAdmin('brand-service', 'POST', '/brands', { name: unique('Matrix brand') }), 201, 'brand')).id as string;
  const newCategory = async () =>
    (await ok(asAdmin('category-service', 'POST', '/categories', { name: unique('Matrix category') }), 201, 'category')).id as string;
  async function newProduct(onHand: number): Promise<string> {
    const body = {
      sku: unique('MATRIX'),
      name: unique('Matrix item'),
      priceCents: 1500,
      brandId: shared.brand,
      categoryId: shared.category,
    };
    const product = await ok(asAdmin('product-service', 'POST', '/products', body), 201, 'product');
    if (onHand > 0) await ok(asAdmin('inventory-service', 'PUT', `/inventory/${product.id}`, { onHand }), 200, 'stock');
    return product.id as string;
  }
  async function newUser(): Promise<string> {
    const body = { email: `${unique('matrix-user')}@mart.test`, name: 'Matrix user', password, role: 'staff' };
    return (await ok(asAdmin('user-service', 'POST', '/users', body), 201, 'user')).id as string;
  }
  async function newCustomer(): Promise<string> {
    const body = { email: `${unique('matrix-customer')}@example.com`, password, name: 'Matrix customer' };
    return (await ok(http('customer-service').call('POST', '/customers', { body }), 201, 'customer')).id as string;
  }
  const orderBody = () => ({
    items: [{ productId: shared.product, quantity: 1 }],
    shippingAddress: { line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
  });
  async function newOrder(who: 'customerA' | 'customerB' = 'customerA'): Promise<string> {
    return (await ok(http('order-service').call('POST', '/orders', { token: people[who].token, body: orderBody() }), 201, 'order'))
      .id as string;
  }
  const orderStatus = async (id: string) => (await ok(asAdmin('order-service', 'GET', `/orders/${id}`), 200, 'order')).status as string;
  async function becomes(orderId: string, status: string): Promise<void> {
    await eventually(async () => (await orderStatus(orderId)) === status, `order ${orderId} to become ${status}`);
  }
  /** A's order, paid with the test card and PAID; its payment. */
  async function paidOrder(): Promise<{ order: string; payment: string }> {
    const order = await newOrder();
    const body = { orderId: order, paymentMethod: 'pm_card_visa' };
    const payment = await ok(http('payment-service').call('POST', '/payments', { token: people.customerA.token, body }), 201, 'payment');
    expect(payment.status).to.equal('SUCCEEDED');
    await becomes(order, 'PAID');
    return { order, payment: payment.id as string };
  }
  async function shippedOrder(): Promise<string> {
    const { order } = await paidOrder();
    await ok(asAdmin('order-service', 'POST', `/orders/${order}/ship`), 200, 'ship');
    return order;
  }
  async function refreshToken(): Promise<string> {
    const login = http('auth-service').call('POST', '/auth/login', { body: { email: people.customerA.email, password } });
    return (await ok(login, 200, 'login')).refreshToken as string;
  }
  const read = (service: string, path: string) => async () => {
    const result = await asAdmin(service, 'GET', path);
    return { status: result.status, body: result.body };
  };
  const paymentsOf = (orderId: string) => read('payment-service', `/payments?orderId=${orderId}`);
  const fixed = (path: string, body?: unknown, observe?: () => Promise<unknown>) => async (): Promise<Cell> => ({ path, body, observe });

  /** The rule for every endpoint; the coverage test fails when the services serve one that is missing. */
  const rules: Record<EndpointKey, Rule> = {
    'POST /auth/login': { matrix: anyone, cell: async () => ({ path: '/auth/login', body: { email: people.customerA.email, password } }) },
    'POST /auth/admin/login': {
      matrix: anyone,
      cell: async () => ({ path: '/auth/admin/login', body: { email: people.staff.email, password } }),
    },
    'POST /auth/refresh': { matrix: anyone, cell: async () => ({ path: '/auth/refresh', body: { refreshToken: await refreshToken() } }) },
    'POST /auth/logout': { matrix: anyone, cell: async () => ({ path: '/auth/logout', body: { refreshToken: await refreshToken() } }) },
    'GET /auth/me': { matrix: signedIn, cell: fixed('/auth/me') },
    'GET /auth/.well-known/jwks.json': { matrix: anyone, cell: fixed('/auth/.well-known/jwks.json') },

    'POST /users': {
      matrix: adminOnly,
      cell: async () => ({ path: '/users', body: { email: `${unique('matrix-new')}@mart.test`, name: 'New', password, role: 'admin' } }),
    },
    'GET /users': { matrix: adminOnly, cell: async () => ({ path: '/users' }) },
    'GET /users/{id}': { matrix: adminOnly, cell: async () => ({ path: `/users/${people.staff.id}` }) },
    'PATCH /users/{id}': {
      matrix: adminOnly,
      cell: async (role) => {
        const path = `/users/${people.staff.id}`;
        return { path, body: { name: `Renamed by ${role}`, role: 'staff' }, observe: read('user-service', path) };
      },
    },
    'DELETE /users/{id}': {
      matrix: adminOnly,
      cell: async () => {
        const path = `/users/${await newUser()}`;
        return { path, observe: read('user-service', path) };
      },
    },

    'POST /customers': {
      matrix: anyone,
      cell: async () => ({ path: '/customers', body: { email: `${unique('matrix-new')}@example.com`, password, name: 'New' } }),
    },
    'GET /customers/me': { matrix: customers, cell: fixed('/customers/me') },
    'PATCH /customers/me': { matrix: customers, cell: async (role) => ({ path: '/customers/me', body: { name: `Renamed by ${role}` } }) },
    'POST /customers/me/password': {
      matrix: customers,
      cell: fixed('/customers/me/password', { currentPassword: password, newPassword: password }),
    },
    'GET /customers': { matrix: staffOnly, cell: fixed('/customers') },
    'GET /customers/{id}': { matrix: staffOnly, cell: async () => ({ path: `/customers/${people.customerA.id}` }) },
    'DELETE /customers/{id}': {
      matrix: adminOnly,
      cell: async () => {
        const path = `/customers/${await newCustomer()}`;
        return { path, observe: read('customer-service', path) };
      },
    },

    'GET /brands': { matrix: anyone, cell: fixed('/brands') },
    'GET /brands/{id}': { matrix: anyone, cell: async () => ({ path: `/brands/${shared.brand}` }) },
    'POST /brands': { matrix: staffOnly, cell: async () => ({ path: '/brands', body: { name: unique('Matrix new brand') } }) },
    'PATCH /brands/{id}': {
      matrix: staffOnly,
      cell: async (role) => {
        const path = `/brands/${shared.brand}`;
        return { path, body: { description: `changed by ${role}` }, observe: read('brand-service', path) };
      },
    },
    'DELETE /brands/{id}': {
      matrix: staffOnly,
      cell: async () => {
        const path = `/brands/${await newBrand()}`;
        return { path, observe: read('brand-service', path) };
      },
    },

    'GET /categories': { matrix: anyone, cell: fixed('/categories') },
    'GET /categories/{id}': { matrix: anyone, cell: async () => ({ path: `/categories/${shared.category}` }) },
    'POST /categories': {
      matrix: staffOnly,
      cell: async () => ({ path: '/categories', body: { name: unique('Matrix new category'), parentId: shared.category } }),
    },
    'PATCH /categories/{id}': {
      matrix: staffOnly,
      cell: async (role) => {
        const path = `/categories/${shared.category}`;
        return { path, body: { description: `changed by ${role}` }, observe: read('category-service', path) };
      },
    },
    'DELETE /categories/{id}': {
      matrix: staffOnly,
      cell: async () => {
        const path = `/categories/${await newCategory()}`;
        return { path, observe: read('category-service', path) };
      },
    },

    'GET /products': { matrix: anyone, cell: fixed('/products') },
    'GET /products/{id}': { matrix: anyone, cell: async () => ({ path: `/products/${shared.product}` }) },
    'POST /products': {
      matrix: staffOnly,
      cell: async () => ({
        path: '/products',
        body: { sku: unique('MATRIX-NEW'), name: 'New', priceCents: 100, brandId: shared.brand, categoryId: shared.category },
      }),
    },
    'PATCH /products/{id}': {
      matrix: staffOnly,
      cell: async (role) => {
        const path = `/products/${shared.product}`;
        return { path, body: { description: `changed by ${role}` }, observe: read('product-service', path) };
      },
    },
    'DELETE /products/{id}': {
      matrix: staffOnly,
      cell: async () => {
        const path = `/products/${await newProduct(0)}`;
        return { path, observe: read('product-service', path) };
      },
    },

    'GET /inventory/{productId}': { matrix: staffOnly, cell: async () => ({ path: `/inventory/${shared.stockProduct}` }) },
    'PUT /inventory/{productId}': {
      matrix: staffOnly,
      cell: async (_role, allowed) => {
        const path = `/inventory/${shared.stockProduct}`;
        return { path, body: { onHand: allowed ? 50 : 7 }, observe: read('inventory-service', path) };
      },
    },
    'POST /inventory/{productId}/adjustments': {
      matrix: staffOnly,
      cell: async () => ({
        path: `/inventory/${shared.stockProduct}/adjustments`,
        body: { delta: 1, reason: 'matrix' },
        observe: read('inventory-service', `/inventory/${shared.stockProduct}`),
      }),
    },
    'GET /inventory/{productId}/adjustments': {
      matrix: staffOnly,
      cell: async () => ({ path: `/inventory/${shared.stockProduct}/adjustments` }),
    },

    'POST /orders': { matrix: customers, cell: async () => ({ path: '/orders', body: orderBody() }) },
    'GET /orders': { matrix: signedIn, cell: fixed('/orders') },
    'GET /orders/{id}': { matrix: ownerOrStaff, cell: async () => ({ path: `/orders/${shared.pendingOrder}` }) },
    'POST /orders/{id}/cancel': {
      matrix: ownerOrStaff,
      cell: async (_role, allowed) => {
        const order = allowed ? await newOrder() : shared.pendingOrder;
        return { path: `/orders/${order}/cancel`, observe: read('order-service', `/orders/${order}`) };
      },
    },
    'POST /orders/{id}/ship': {
      matrix: staffOnly,
      cell: async (_role, allowed) => {
        const order = allowed ? (await paidOrder()).order : shared.paidOrder;
        return { path: `/orders/${order}/ship`, observe: read('order-service', `/orders/${order}`) };
      },
    },
    'POST /orders/{id}/deliver': {
      matrix: staffOnly,
      cell: async (_role, allowed) => {
        const order = allowed ? await shippedOrder() : shared.paidOrder;
        return { path: `/orders/${order}/deliver`, observe: read('order-service', `/orders/${order}`) };
      },
    },

    'POST /payments': {
      matrix: ownerOnly,
      cell: async (_role, allowed) => {
        const order = allowed ? await newOrder() : shared.pendingOrder;
        const observe = async () => [await read('order-service', `/orders/${order}`)(), await paymentsOf(order)()];
        return { path: '/payments', body: { orderId: order, paymentMethod: 'pm_card_visa' }, observe };
      },
    },
    'GET /payments': { matrix: signedIn, cell: fixed('/payments') },
    'GET /payments/{id}': { matrix: ownerOrStaff, cell: async () => ({ path: `/payments/${shared.payment}` }) },
    'POST /payments/{id}/refund': {
      matrix: adminOnly,
      cell: async (_role, allowed) => {
        const { order, payment } = allowed ? await paidOrder() : { order: shared.paidOrder, payment: shared.payment };
        const observe = async () => [
          await read('payment-service', `/payments/${payment}`)(),
          await read('order-service', `/orders/${order}`)(),
        ];
        return { path: `/payments/${payment}/refund`, observe };
      },
    },
    'POST /payments/webhook': {
      matrix: signatureOnly,
      cell: async () => ({ path: '/payments/webhook', body: { id: `evt_${run}`, type: 'payment_intent.succeeded', data: { object: {} } } }),
    },

    'GET /notifications': {
      matrix: staffOnly,
      cell: async () => ({ path: `/notifications?to=${encodeURIComponent(people.customerA.email)}` }),
    },
  };

  before(async function () {
    this.timeout(120_000);
    served = await servedEndpoints();
    people = await signInEveryone('matrix');
    shared.brand = await newBrand();
    shared.category = await newCategory();
    shared.product = await newProduct(10_000);
    shared.stockProduct = await newProduct(50);
    shared.pendingOrder = await newOrder();
    ({ order: shared.paidOrder, payment: shared.payment } = await paidOrder());
    shared.bOrder = await newOrder('customerB');
  });

  it('has a rule for every endpoint the services serve, and none for an endpoint that is gone', () => {
    expect(served.length).to.be.greaterThan(40);
    expect(classificationGaps(served, Object.keys(rules))).to.deep.equal({ missing: [], stale: [] });
  });

  it('agrees with the OpenAPI documents: an endpoint asks for a bearer token exactly when anonymous calls are refused with 401', () => {
    const disagreements = served.filter((endpoint) => {
      const rule = rules[endpoint.key];
      return rule !== undefined && endpoint.bearer !== (rule.matrix.anonymous === 401);
    });
    expect(disagreements.map((endpoint) => endpoint.key)).to.deep.equal([]);
  });

  let cells = 0;
  after(() => {
    console.log(`      authorization matrix: ${Object.keys(rules).length} endpoints × ${roles.length} principals = ${cells} cells`);
  });

  for (const [key, rule] of Object.entries(rules) as [EndpointKey, Rule][]) {
    describe(key, () => {
      for (const role of roles) {
        const expected = rule.matrix[role];
        it(`as ${role} → ${expected}`, async () => {
          const endpoint = served.find((one) => one.key === key);
          if (!endpoint) throw new Error(`${key} is not served (see the coverage test)`);
          cells += 1;
          const cell = await rule.cell(role, expected === 'allowed');
          const before = expected === 'allowed' ? undefined : await cell.observe?.();
          const token = people.tokenOf(role);
          const response = await send(serviceUrl(endpoint.service), endpoint.method, cell.path, {
            token,
            ...(cell.body !== undefined ? { body: JSON.stringify(cell.body), headers: { 'content-type': 'application/json' } } : {}),
          });
          const context = `${key} as ${role}: ${response.text.slice(0, 300)}`;
          expect(response.status, context).to.equal(expected === 'allowed' ? endpoint.success : expected);
          if (expected === 'allowed') return;
          expectErrorBody(response, context);
          expect(response.json.error.code, context).to.equal(
            { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found' }[expected],
          );
          if (cell.observe) expect(await cell.observe(), `${key} as ${role} changed what it was refused`).to.deep.equal(before);
        });
      }
    });
  }

  describe("one customer and another's data", () => {
    const idsOf = (body: { items: { id: string; customerId: string }[] }) => body.items.map((item) => item.id);

    it("lists only the customer's own orders, whatever customerId the query names", async () => {
      const orders = http('order-service');
      for (const path of ['/orders?pageSize=100', `/orders?pageSize=100&customerId=${people.customerA.id}`]) {
        const listed = await ok(orders.call('GET', path, { token: people.customerB.token }), 200, path);
        expect(listed.items.map((order: { customerId: string }) => order.customerId)).to.satisfy((ids: string[]) =>
          ids.every((id) => id === people.customerB.id),
        );
        expect(idsOf(listed)).to.include(shared.bOrder).and.not.include(shared.pendingOrder);
      }
      const own = await ok(orders.call('GET', '/orders?pageSize=100', { token: people.customerA.token }), 200, 'A lists');
      expect(idsOf(own)).to.include(shared.pendingOrder).and.not.include(shared.bOrder);
    });

    it("lists only the customer's own payments, also when filtering by another customer's order", async () => {
      const payments = http('payment-service');
      const all = await ok(payments.call('GET', '/payments?pageSize=100', { token: people.customerB.token }), 200, 'B lists');
      expect(all.items.map((payment: { customerId: string }) => payment.customerId)).to.satisfy((ids: string[]) =>
        ids.every((id) => id === people.customerB.id),
      );
      expect(idsOf(all)).to.not.include(shared.payment);
      const filtered = await ok(
        payments.call('GET', `/payments?orderId=${shared.paidOrder}`, { token: people.customerB.token }),
        200,
        "B filters by A's order",
      );
      expect(filtered).to.include({ total: 0 });
      const owner = await ok(payments.call('GET', `/payments?orderId=${shared.paidOrder}`, { token: people.customerA.token }), 200, 'A');
      expect(idsOf(owner)).to.deep.equal([shared.payment]);
    });

    it("leaves A's unpaid order unpaid, uncancelled and without a payment after everything B tried", async () => {
      expect(await orderStatus(shared.pendingOrder)).to.equal('PENDING_PAYMENT');
      expect((await paymentsOf(shared.pendingOrder)()).body).to.include({ total: 0 });
      expect(await orderStatus(shared.paidOrder)).to.equal('PAID');
      const payment = await ok(asAdmin('payment-service', 'GET', `/payments/${shared.payment}`), 200, 'payment');
      expect(payment.status).to.equal('SUCCEEDED');
    });

    it("does not let a customer read emails, not even their own or another customer's", async () => {
      for (const person of [people.customerA, people.customerB]) {
        const path = `/notifications?to=${encodeURIComponent(people.customerA.email)}`;
        const result = await http('notification-service').call('GET', path, { token: person.token });
        expect(result.status).to.equal(403);
        expect(result.body.error.code).to.equal('forbidden');
      }
    });
  });
});
