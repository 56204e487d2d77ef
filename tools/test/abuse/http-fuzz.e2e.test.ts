import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { generateTestKeys, mintToken, serviceUrl, stackKeys } from '@mart/common/testing';
import {
  classificationGaps,
  detailPaths,
  expectErrorBody,
  expectEveryServiceUp,
  fillPath,
  httpServices,
  send,
  servedEndpoints,
  signInEveryone,
  type EndpointKey,
  type Principals,
  type RawResponse,
  type ServedEndpoint,
} from './endpoints.ts';
import {
  bodyWithOneBadField,
  constrains,
  fuzzPlans,
  invalidHeaderValue,
  invalidPathValue,
  notUuid,
  queryWithOneBadParameter,
  validHeaderValue,
  validObject,
  validQuery,
  type Access,
  type FuzzPlan,
  type JsonSchema,
  type OpenApiDocument,
} from './fuzz.plans.ts';

// Malformed input to every endpoint of every running service, generated with fast-check from the
// OpenAPI document each service serves: each request carries a token the endpoint accepts, so it
// reaches validation. Whatever is sent, the answer is one of the statuses the endpoint documents
// (never a 5xx), with the documented error body, and a request with one bad field is a 400 that
// names that field.

type Who = 'anonymous' | 'customerA' | 'admin';

/** A principal each access level lets through, so requests get past authorization. */
const principals: Record<Access, Who> = {
  public: 'anonymous',
  authenticated: 'customerA',
  customer: 'customerA',
  staff: 'admin',
  admin: 'admin',
};

// Rules the services enforce that their OpenAPI documents do not state (a zod refine or pipe does
// not reach the document), added to the documents so that they are fuzzed too.
const email: JsonSchema = { format: 'email', maxLength: 254 }; // emailSchema pipes into z.email().max(254)
const newPassword: JsonSchema = { 'x-maxBytes': 72 }; // newPasswordSchema refines: bcrypt reads only 72 bytes
const asSent: JsonSchema = { 'x-blankAllowed': true }; // secrets are compared as sent, not trimmed
const isoCurrency: JsonSchema = { enum: Intl.supportedValuesOf('currency') }; // a refine on Intl's list
const unstated: Record<string, JsonSchema> = {
  'Login.email': email,
  'Login.password': asSent,
  'RefreshToken.refreshToken': asSent,
  'CreateUser.email': email,
  'CreateUser.password': newPassword,
  'UpdateUser.password': newPassword,
  'RegisterCustomer.email': email,
  'RegisterCustomer.password': newPassword,
  'ChangePassword.currentPassword': asSent,
  'ChangePassword.newPassword': newPassword,
  'CreateProduct.currency': isoCurrency,
  'UpdateProduct.currency': isoCurrency,
  'AdjustStock.delta': { not: { const: 0 } },
};

const noLogins = 'a well-formed login that fails counts against the per-address login limit every suite shares';
/** Endpoints sent only invalid requests, and why (valid ones would do harm to other suites). */
const invalidOnly: Partial<Record<EndpointKey, string>> = { 'POST /auth/login': noLogins, 'POST /auth/admin/login': noLogins };

/** Each HTTP service's OpenAPI document, as the running service serves it. */
const documents: Record<string, OpenApiDocument> = {};
for (const service of httpServices) {
  const response = await fetch(`${serviceUrl(service)}/openapi.json`);
  if (!response.ok) throw new Error(`${service} /openapi.json answered ${response.status}`);
  documents[service] = (await response.json()) as OpenApiDocument;
}
/** Every operation of every running service, and how to fuzz it. */
const plans = fuzzPlans(documents, unstated);

function queryString(query: Partial<Record<string, string | string[]>>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) for (const one of [value ?? []].flat()) search.append(name, one);
  const text = search.toString();
  return text ? `?${text}` : '';
}

const numRuns = { badField: 25, validLooking: 15, strings: 8 };

describe('HTTP abuse: malformed input to every endpoint (fast-check)', function () {
  this.timeout(120_000);
  let served: ServedEndpoint[] = [];
  let people: Principals;
  const counts = { requests: 0, endpoints: 0 };

  /** Authorization headers no endpoint may accept: malformed, forged, expired or with impossible claims. */
  let badAuthorizations: fc.Arbitrary<string>;

  before(async () => {
    served = await servedEndpoints();
    people = await signInEveryone('fuzz');
    const realKey = stackKeys().privateKey;
    const admin = { sub: people.admin.id, kind: 'user', role: 'admin' } as const;
    const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forged = [
      mintToken(generateTestKeys().privateKey, admin),
      mintToken(realKey, admin, { expiresIn: -60 }),
      mintToken(realKey, admin, { audience: 'another-app' }),
      mintToken(realKey, { ...admin, role: 'root' as 'admin' }),
      mintToken(realKey, { sub: people.customerA.id, kind: 'robot' as 'customer' }),
      `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: admin.sub, kind: 'user', role: 'admin', email: 'a@b.c' })}.`,
      `${people.admin.token.split('.').slice(0, 2).join('.')}.${'A'.repeat(342)}`,
    ];
    badAuthorizations = fc.oneof(
      fc.constantFrom(...forged).map((token) => `Bearer ${token}`),
      fc.constantFrom(
        'Bearer',
        'Bearer  ',
        'bearer x.y.z',
        'Basic dXNlcjpwYXNz',
        `Token ${people.admin.token}`,
        `Bearer ${'x'.repeat(6000)}`,
      ),
      fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((value) => `Bearer ${value.replace(/[^\x21-\x7e]/g, '')}x`),
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }).map((value) => value.replace(/[^\x21-\x7e]/g, '') || 'x'),
    );
  });

  after(() => {
    console.log(`      fuzzed ${counts.endpoints} endpoints with ${counts.requests} requests`);
  });

  it('has a fuzz plan for every endpoint the services serve, and none for an endpoint that is gone', () => {
    expect(served.length).to.be.greaterThan(40);
    expect(
      classificationGaps(
        served,
        plans.map((plan) => plan.key),
      ),
    ).to.deep.equal({ missing: [], stale: [] });
  });

  /** Sends a request as the plan's principal and checks what every answer must be. */
  async function call(
    plan: FuzzPlan,
    request: { params?: Record<string, string>; query?: string; body?: string | Uint8Array; headers?: Record<string, string> },
  ): Promise<RawResponse> {
    const params = Object.fromEntries(Object.entries(request.params ?? {}).map(([name, value]) => [name, encodeURIComponent(value)]));
    const path = `${fillPath(plan.path, params)}${request.query ?? ''}`;
    const response = await send(serviceUrl(plan.service), plan.method, path, {
      token: tokenFor(plan),
      body: request.body,
      headers: request.headers,
    });
    counts.requests += 1;
    const context = `${plan.key} → ${response.status} for ${path} ${typeof request.body === 'string' ? request.body.slice(0, 300) : ''}`;
    expect(response.status, `${context}: never a 5xx (${response.text.slice(0, 300)})`).to.be.below(500);
    if (response.status >= 400) expectErrorBody(response, context);
    return response;
  }

  const tokenFor = (plan: FuzzPlan) => {
    const who = principals[plan.access];
    return who === 'anonymous' ? undefined : people[who].token;
  };
  const json = { 'content-type': 'application/json' };
  const validParams = (plan: FuzzPlan) => Object.fromEntries(Object.keys(plan.params).map((name) => [name, randomUUID()]));

  for (const plan of plans) {
    const key = plan.key;
    const documented = (response: RawResponse) => {
      const endpoint = served.find((one) => one.key === key);
      expect(endpoint?.documented, `${key} answered ${response.status}: ${response.text.slice(0, 300)}`).to.include(response.status);
    };
    const names = Object.keys(plan.params);
    const bodySchema = plan.body === 'opaque' ? undefined : plan.body;
    // Sent where the path parameter is what is under test, so that the body is no reason to refuse.
    const sample = names.length > 0 ? plan.sample : undefined;
    const headers = Object.entries(plan.headers).filter(([, header]) => constrains(header.schema));
    /** Valid values of the optional headers the endpoint documents, some left out. */
    const optionalHeaders = fc.record(
      Object.fromEntries(headers.filter(([, header]) => !header.required).map(([name, header]) => [name, validHeaderValue(header.schema)])),
      { requiredKeys: [] },
    );
    const why = invalidOnly[key];
    /** The header the webhook's signature comes in: the one it requires. */
    const signature = Object.entries(plan.headers).find(([, header]) => header.required)?.[0];

    describe(key, () => {
      before(() => {
        counts.endpoints += 1;
      });

      if (bodySchema) {
        it('answers a body with one bad, missing or unknown field with 400 naming it', async () => {
          await fc.assert(
            fc.asyncProperty(bodyWithOneBadField(bodySchema), optionalHeaders, async ({ body: sent, bad }, extra) => {
              const response = await call(plan, { params: validParams(plan), body: JSON.stringify(sent), headers: { ...json, ...extra } });
              expect(response.status, `${bad} in ${JSON.stringify(sent).slice(0, 300)}: ${response.text.slice(0, 300)}`).to.equal(400);
              expect(response.json.error.code).to.equal('validation_failed');
              expect(detailPaths(response), `${JSON.stringify(sent).slice(0, 300)}`).to.include(bad);
            }),
            { numRuns: numRuns.badField },
          );
        });
      }

      if (Object.keys(plan.query).length > 0) {
        it('answers a query with one bad parameter (negative, huge, fractional, unknown, repeated) with 400 naming it', async () => {
          await fc.assert(
            fc.asyncProperty(queryWithOneBadParameter(plan.query), async ({ query, bad }) => {
              const response = await call(plan, { params: validParams(plan), query: queryString(query) });
              expect(response.status, `${bad}=${JSON.stringify(query[bad])}: ${response.text.slice(0, 300)}`).to.equal(400);
              expect(detailPaths(response)).to.include(bad);
            }),
            { numRuns: numRuns.badField },
          );
        });
      }

      if (names.length > 0) {
        it('answers a path parameter that is not a UUID with 400 naming it, and a broken escape with 400', async () => {
          const badParams = fc
            .constantFrom(...names)
            .chain((name) => invalidPathValue(plan.params[name]!).map((value) => ({ name, value })));
          await fc.assert(
            fc.asyncProperty(badParams, async ({ name, value }) => {
              const response = await call(plan, {
                params: { ...validParams(plan), [name]: value },
                ...(sample ? { body: JSON.stringify(sample), headers: json } : {}),
              });
              expect(response.status, `${name}=${JSON.stringify(value)}: ${response.text.slice(0, 300)}`).to.equal(400);
              expect(detailPaths(response)).to.include(name);
            }),
            { numRuns: numRuns.badField },
          );
          for (const escape of ['%', '%E0%A4%A', '%zz', '%C0%AF']) {
            const path = fillPath(plan.path, Object.fromEntries(names.map((name) => [name, escape])));
            const response = await send(serviceUrl(plan.service), plan.method, path, { token: tokenFor(plan) });
            counts.requests += 1;
            expect(response.status, `${path}: ${response.text.slice(0, 300)}`).to.equal(400);
            expectErrorBody(response, path);
          }
        });

        if (!why) {
          it('answers an unknown id with 404 not_found', async () => {
            const response = await call(plan, {
              params: validParams(plan),
              ...(sample ? { body: JSON.stringify(sample), headers: json } : {}),
            });
            expect(response.status, response.text).to.equal(404);
            expect(response.json.error.code).to.equal('not_found');
          });
        }
      }

      if (!why && plan.body !== 'opaque') {
        it('answers valid-looking input full of edge-case strings and numbers with a documented status, never a 5xx', async () => {
          const bodies = bodySchema ? validObject(bodySchema).map((value) => JSON.stringify(value)) : fc.constant(undefined);
          await fc.assert(
            fc.asyncProperty(bodies, validQuery(plan.query), optionalHeaders, async (sent, query, extra) => {
              const response = await call(plan, {
                params: validParams(plan),
                query: queryString(query),
                ...(sent !== undefined ? { body: sent } : {}),
                headers: { ...(sent !== undefined ? json : {}), ...extra },
              });
              documented(response);
            }),
            { numRuns: numRuns.validLooking },
          );
        });
      }

      if (plan.access !== 'public') {
        it('answers a malformed, forged or expired Authorization header with 401 unauthorized', async () => {
          await fc.assert(
            fc.asyncProperty(badAuthorizations, async (authorization) => {
              const path = fillPath(plan.path, validParams(plan));
              const response = await send(serviceUrl(plan.service), plan.method, path, {
                headers: { authorization, ...(sample ? json : {}) },
                ...(sample ? { body: JSON.stringify(sample) } : {}),
              });
              counts.requests += 1;
              expect(response.status, `${authorization.slice(0, 80)}: ${response.text.slice(0, 300)}`).to.equal(401);
              expectErrorBody(response, key);
              expect(response.json.error.code).to.equal('unauthorized');
            }),
            { numRuns: numRuns.strings },
          );
        });
      }

      for (const [name, header] of headers) {
        it(`answers a bad ${name} header with 400 naming it`, async () => {
          await fc.assert(
            fc.asyncProperty(invalidHeaderValue(header.schema), async (value) => {
              const response = await call(plan, {
                params: validParams(plan),
                ...(plan.sample ? { body: JSON.stringify(plan.sample) } : {}),
                headers: { ...json, [name]: value },
              });
              expect(response.status, response.text).to.equal(400);
              expect(detailPaths(response)).to.include(name);
            }),
            { numRuns: numRuns.strings },
          );
        });
      }

      if (plan.body) {
        it('answers broken JSON, JSON that is not an object, and deep nesting with 400', async () => {
          const notJson = fc.string({ minLength: 1, maxLength: 60 }).filter((value) => {
            if (!value.trim()) return false;
            try {
              JSON.parse(value);
              return false;
            } catch {
              return true;
            }
          });
          const bodies = fc.oneof(
            notJson,
            fc.constantFrom(
              '{',
              '{"a":}',
              "{'a':1}",
              '{"a":1,}',
              '[1,2',
              '\u0000',
              '{"a":"\\u00"}',
              'nul',
              '[]',
              '"text"',
              '1',
              'null',
              'true',
              '{"__proto__":{"admin":true}}',
            ),
            fc.integer({ min: 1000, max: 20_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
            fc.integer({ min: 1000, max: 8_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
          );
          await fc.assert(
            fc.asyncProperty(bodies, async (body) => {
              const response = await call(plan, { params: validParams(plan), body, headers: json });
              expect(response.status, `${JSON.stringify(body.slice(0, 80))}: ${response.text.slice(0, 300)}`).to.equal(400);
            }),
            { numRuns: numRuns.validLooking },
          );
        });

        it('answers a body of the wrong content type, charset or encoding with 400', async () => {
          const sent = JSON.stringify(sample ?? { name: 'x' });
          const variants: Record<string, string>[] = [
            { 'content-type': 'text/plain' },
            { 'content-type': 'application/xml' },
            { 'content-type': 'application/json; charset=utf-16' },
            { 'content-type': 'application/json', 'content-encoding': 'gzip' },
            { 'content-type': 'application/json', 'content-encoding': 'deflate' },
            { 'content-type': 'application/json', 'content-encoding': 'compress' },
          ];
          for (const headers of variants) {
            const response = await call(plan, { params: validParams(plan), body: sent, headers });
            expect(response.status, `${JSON.stringify(headers)}: ${response.text.slice(0, 300)}`).to.equal(400);
          }
        });
      }

      // fetch sends no body with a GET; the JSON parser and its limit are the same for every route.
      if (!key.startsWith('GET ')) {
        it('answers a body beyond the size limit with 413 payload_too_large', async () => {
          // 100kb for JSON (JSON_LIMIT), 1mb for the webhook's raw body.
          const size = plan.body === 'opaque' ? 1_100_000 : 120_000;
          const body = JSON.stringify({ name: 'x'.repeat(size) });
          const response = await call(plan, { params: validParams(plan), body, headers: json });
          expect(response.status, response.text.slice(0, 300)).to.equal(413);
          expect(response.json.error.code).to.equal('payload_too_large');
        });
      }

      if (plan.body === 'opaque' && signature) {
        it('answers any unsigned or wrongly signed event with 400 bad_request', async () => {
          const signatures = fc.oneof(
            fc.constant(undefined),
            fc.string({ maxLength: 80 }).map((value) => value.replace(/[\r\n\0]/g, '').replace(/[^\x20-\x7e]/g, 'x')),
            fc.integer({ min: 0, max: 2 ** 31 }).map((time) => `t=${time},v1=${'0'.repeat(64)}`),
          );
          await fc.assert(
            fc.asyncProperty(fc.oneof(fc.json(), fc.string({ maxLength: 200 })), signatures, async (body, value) => {
              const response = await call(plan, {
                body,
                headers: { ...json, ...(value?.trim() ? { [signature]: value } : {}) },
              });
              expect(response.status, response.text.slice(0, 300)).to.equal(400);
              expect(response.json.error.code).to.equal('bad_request');
            }),
            { numRuns: numRuns.validLooking },
          );
        });
      }
    });
  }

  describe('the OAuth2 password form on the login endpoints', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const path of ['/auth/login', '/auth/admin/login']) {
      it(`${path}: a form with a bad field is a 400, a huge one a 413, one with too many fields a 4xx`, async () => {
        const base = serviceUrl('auth-service');
        const badForms = fc.oneof(
          fc.constant({ body: 'password=x', bad: 'username' }),
          fc.constant({ body: 'username=ada%40example.com', bad: 'password' }),
          notUuid.map((value) => ({
            body: new URLSearchParams({ username: `${value}`.replace(/@/g, ''), password: 'x' }).toString(),
            bad: 'username',
          })),
          fc.constant({ body: 'grant_type=client_credentials&username=ada%40example.com&password=x', bad: 'grant_type' }),
        );
        await fc.assert(
          fc.asyncProperty(badForms, async ({ body, bad }) => {
            const response = await send(base, 'post', path, { body, headers: form });
            counts.requests += 1;
            expect(response.status, response.text).to.equal(400);
            expectErrorBody(response, path);
            expect(detailPaths(response)).to.include(bad);
          }),
          { numRuns: numRuns.strings },
        );
        const huge = await send(base, 'post', path, { body: `username=${'a'.repeat(20_000)}&password=x`, headers: form });
        expect(huge.status, huge.text).to.equal(413);
        expectErrorBody(huge, `${path} huge form`);
        const many = await send(base, 'post', path, { body: Array.from({ length: 1500 }, (_, i) => `f${i}=1`).join('&'), headers: form });
        counts.requests += 2;
        expect(many.status, many.text).to.be.oneOf([400, 413]);
        expectErrorBody(many, `${path} form with 1500 fields`);
      });
    }
  });

  // Last: mocha runs a suite's own tests before its nested suites.
  describe('after the barrage', () => {
    it('leaves every service healthy and ready, and still serving', async () => {
      await expectEveryServiceUp();
      const me = await send(serviceUrl('customer-service'), 'get', '/customers/me', { token: people.customerA.token });
      expect(me.status, me.text).to.equal(200);
    });
  });
});
