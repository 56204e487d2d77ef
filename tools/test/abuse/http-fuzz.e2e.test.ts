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
  send,
  servedEndpoints,
  signInEveryone,
  type EndpointKey,
  type Principals,
  type RawResponse,
  type ServedEndpoint,
} from './endpoints.ts';

// Malformed input to every endpoint of every running service, generated with fast-check: each
// request carries a token the endpoint accepts, so it reaches validation. Whatever is sent, the
// answer is one of the statuses the endpoint documents (never a 5xx), with the documented error
// body, and a request with one bad field is a 400 that names that field.

// The shape of each endpoint's input, as far as the fuzzer needs to know it.

type Field =
  | { kind: 'uuid' }
  /** A string, trimmed when `trim`, whose length must be within min..max. */
  | { kind: 'string'; min: number; max: number; trim: boolean }
  | { kind: 'email' }
  /** A new password: at least 8 characters, at most 72 bytes (bcrypt's limit). */
  | { kind: 'newPassword' }
  | { kind: 'int'; min: number; max: number; nonZero?: boolean }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'bool' }
  /** A string format (sku, phone, currency, payment method): a valid and an invalid generator. */
  | { kind: 'format'; valid: fc.Arbitrary<string>; invalid: fc.Arbitrary<string> }
  | { kind: 'object'; fields: Fields }
  | { kind: 'array'; item: Field; min: number; max: number };

interface Spec {
  field: Field;
  optional?: boolean;
  nullable?: boolean;
}
type Fields = Record<string, Spec>;

type QueryField =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'text'; min: number; max: number }
  | { kind: 'uuid' }
  | { kind: 'enum'; values: readonly string[] };

type Who = 'anonymous' | 'customerA' | 'admin';

interface FuzzPlan {
  /** A principal the endpoint accepts, so requests get past authorization. */
  as: Who;
  params?: string[];
  query?: Record<string, QueryField>;
  body?: Fields;
  /** The webhook reads the raw bytes and checks Stripe's signature; it has no JSON schema. */
  rawBody?: true;
  idempotencyKey?: true;
  /** A valid body for the "unknown id → 404" check. */
  sample?: Record<string, unknown>;
  /** Why only invalid requests are sent here (valid ones would do harm to other suites). */
  invalidOnly?: string;
}

const maxInt = 2_147_483_647;
const req = (field: Field): Spec => ({ field });
const opt = (field: Field): Spec => ({ field, optional: true });
const optNull = (field: Field): Spec => ({ field, optional: true, nullable: true });
const uuid: Field = { kind: 'uuid' };
const text = (max: number, min = 1): Field => ({ kind: 'string', min, max, trim: true });
const raw = (max: number, min = 0): Field => ({ kind: 'string', min, max, trim: false });
const email: Field = { kind: 'email' };
const newPassword: Field = { kind: 'newPassword' };
const int = (min: number, max: number, nonZero = false): Field => ({ kind: 'int', min, max, nonZero });
const oneOf = (values: readonly string[]): Field => ({ kind: 'enum', values });
const bool: Field = { kind: 'bool' };
const object = (fields: Fields): Field => ({ kind: 'object', fields });

// API.md: page is 1-based, pageSize at most 100; page is carried as an int32 to db-service.
const page: Record<string, QueryField> = { page: { kind: 'int', min: 1, max: maxInt }, pageSize: { kind: 'int', min: 1, max: 100 } };
const qtext = (max: number, min = 1): QueryField => ({ kind: 'text', min, max });
const quuid: QueryField = { kind: 'uuid' };
const qenum = (values: readonly string[]): QueryField => ({ kind: 'enum', values });

/** What zod's format checks accept, re-stated so the fuzzer can tell valid from invalid. */
const formats = {
  sku: (value: string) => {
    const trimmed = value.trim();
    return trimmed.length >= 1 && trimmed.length <= 64 && /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(trimmed);
  },
  phone: (value: string) => /^\+?[0-9][0-9 ().-]{3,30}$/.test(value.trim()),
  currency: (value: string) => Intl.supportedValuesOf('currency').includes(value),
  paymentMethod: (value: string) => /^pm_[A-Za-z0-9_]{1,100}$/.test(value),
};
const junk = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '-x', 'a b', 'usd', 'é', 'pm_', 'pm_card visa', '+', '\u0000', 'x'.repeat(120)),
);
const format = (valid: fc.Arbitrary<string>, accepts: (value: string) => boolean): Field => ({
  kind: 'format',
  valid,
  invalid: junk.filter((value) => !accepts(value)),
});
const sku = format(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,40}$/), formats.sku);
const phone = format(fc.stringMatching(/^\+?[0-9][0-9().-]{3,20}[0-9]$/), formats.phone);
const currency = format(fc.constantFrom('USD', 'EUR', 'JPY', 'GBP'), formats.currency);
const paymentMethod = format(
  fc.oneof(fc.constantFrom('pm_card_visa', 'pm_card_chargeDeclined'), fc.stringMatching(/^pm_[A-Za-z0-9_]{1,30}$/)),
  formats.paymentMethod,
);

const orderStatuses = ['PENDING_PAYMENT', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED'];
const credentials: Fields = { email: req(email), password: req(raw(1024, 1)) };
const brandFields = (optional: boolean): Fields => ({
  name: optional ? opt(text(200)) : req(text(200)),
  description: optional ? optNull(raw(2000)) : opt(raw(2000)),
});
const productFields = (optional: boolean): Fields => {
  const required = (field: Field) => (optional ? opt(field) : req(field));
  return {
    sku: required(sku),
    name: required(text(200)),
    description: opt(raw(5000)),
    priceCents: required(int(0, maxInt)),
    currency: opt(currency),
    brandId: required(uuid),
    categoryId: required(uuid),
    active: opt(bool),
  };
};
const address = object({
  line1: req(text(200)),
  line2: opt(text(200)),
  city: req(text(100)),
  postalCode: req(text(20)),
  country: req(text(100)),
});
const noLogins = 'a well-formed login that fails counts against the per-address login limit every suite shares';

/** Every endpoint the services serve, and how to fuzz it; the coverage test fails on a missing one. */
const plans: Record<EndpointKey, FuzzPlan> = {
  'POST /auth/login': { as: 'anonymous', body: credentials, invalidOnly: noLogins },
  'POST /auth/admin/login': { as: 'anonymous', body: credentials, invalidOnly: noLogins },
  'POST /auth/refresh': { as: 'anonymous', body: { refreshToken: req(raw(512, 1)) } },
  'POST /auth/logout': { as: 'anonymous', body: { refreshToken: req(raw(512, 1)) } },
  'GET /auth/me': { as: 'customerA' },
  'GET /auth/.well-known/jwks.json': { as: 'anonymous' },

  'POST /users': {
    as: 'admin',
    body: { email: req(email), name: req(text(200)), password: req(newPassword), role: req(oneOf(['admin', 'staff'])) },
  },
  'GET /users': { as: 'admin', query: page },
  'GET /users/{id}': { as: 'admin', params: ['id'] },
  'PATCH /users/{id}': {
    as: 'admin',
    params: ['id'],
    body: { name: opt(text(200)), role: opt(oneOf(['admin', 'staff'])), password: opt(newPassword) },
    sample: { name: 'Nobody' },
  },
  'DELETE /users/{id}': { as: 'admin', params: ['id'] },

  'POST /customers': {
    as: 'anonymous',
    body: { email: req(email), password: req(newPassword), name: req(text(200)), phone: opt(phone) },
  },
  'GET /customers/me': { as: 'customerA' },
  'PATCH /customers/me': { as: 'customerA', body: { name: opt(text(200)), phone: optNull(phone) } },
  'POST /customers/me/password': { as: 'customerA', body: { currentPassword: req(raw(1024, 1)), newPassword: req(newPassword) } },
  'GET /customers': { as: 'admin', query: { ...page, email: qtext(254) } },
  'GET /customers/{id}': { as: 'admin', params: ['id'] },
  'DELETE /customers/{id}': { as: 'admin', params: ['id'] },

  'GET /brands': { as: 'anonymous', query: { ...page, q: qtext(100) } },
  'GET /brands/{id}': { as: 'anonymous', params: ['id'] },
  'POST /brands': { as: 'admin', body: brandFields(false) },
  'PATCH /brands/{id}': { as: 'admin', params: ['id'], body: brandFields(true), sample: { description: 'x' } },
  'DELETE /brands/{id}': { as: 'admin', params: ['id'] },

  'GET /categories': { as: 'anonymous', query: { ...page, parentId: quuid, roots: qenum(['true', 'false']) } },
  'GET /categories/{id}': { as: 'anonymous', params: ['id'] },
  'POST /categories': { as: 'admin', body: { ...brandFields(false), parentId: optNull(uuid) } },
  'PATCH /categories/{id}': {
    as: 'admin',
    params: ['id'],
    body: { ...brandFields(true), parentId: optNull(uuid) },
    sample: { description: 'x' },
  },
  'DELETE /categories/{id}': { as: 'admin', params: ['id'] },

  'GET /products': {
    as: 'anonymous',
    query: {
      ...page,
      q: qtext(100),
      brandId: quuid,
      categoryId: quuid,
      minPriceCents: { kind: 'int', min: 0, max: maxInt },
      maxPriceCents: { kind: 'int', min: 0, max: maxInt },
      inStock: qenum(['true', 'false']),
      sort: qenum(['name', 'price', '-price', '-createdAt']),
    },
  },
  'GET /products/{id}': { as: 'anonymous', params: ['id'] },
  'POST /products': { as: 'admin', body: productFields(false) },
  'PATCH /products/{id}': { as: 'admin', params: ['id'], body: productFields(true), sample: { name: 'Nothing' } },
  'DELETE /products/{id}': { as: 'admin', params: ['id'] },

  'GET /inventory/{productId}': { as: 'admin', params: ['productId'] },
  'PUT /inventory/{productId}': { as: 'admin', params: ['productId'], body: { onHand: req(int(0, maxInt)) }, sample: { onHand: 1 } },
  'POST /inventory/{productId}/adjustments': {
    as: 'admin',
    params: ['productId'],
    body: { delta: req(int(-maxInt, maxInt, true)), reason: req(text(200)) },
    sample: { delta: 1, reason: 'found one' },
  },
  'GET /inventory/{productId}/adjustments': { as: 'admin', params: ['productId'], query: page },

  'POST /orders': {
    as: 'customerA',
    idempotencyKey: true,
    body: {
      items: req({ kind: 'array', min: 1, max: 50, item: object({ productId: req(uuid), quantity: req(int(1, 1000)) }) }),
      shippingAddress: req(address),
    },
  },
  'GET /orders': { as: 'customerA', query: { ...page, status: qenum(orderStatuses), customerId: quuid } },
  'GET /orders/{id}': { as: 'customerA', params: ['id'] },
  'POST /orders/{id}/cancel': { as: 'customerA', params: ['id'] },
  'POST /orders/{id}/ship': { as: 'admin', params: ['id'] },
  'POST /orders/{id}/deliver': { as: 'admin', params: ['id'] },

  'POST /payments': { as: 'customerA', body: { orderId: req(uuid), paymentMethod: opt(paymentMethod) } },
  'GET /payments': { as: 'customerA', query: { ...page, orderId: quuid } },
  'GET /payments/{id}': { as: 'customerA', params: ['id'] },
  'POST /payments/{id}/refund': { as: 'admin', params: ['id'] },
  'POST /payments/webhook': { as: 'anonymous', rawBody: true },

  'GET /notifications': {
    as: 'admin',
    query: { ...page, to: qtext(320, 3), type: qtext(100), status: qenum(['PENDING', 'SENT', 'FAILED']) },
  },
};

/** Strings that have broken text handling somewhere: NUL, lone surrogates, invisible and RTL marks, emoji, markup. */
const edgeStrings = [
  '\u0000',
  'nul\u0000inside',
  '\ud800',
  'lone \udc00 low',
  'x\ud83d',
  'zero\u200bwidth',
  '\u200f\u202eright-to-left',
  '\ufeffbom',
  '😀',
  '👩🏽‍🚀 family 👨‍👩‍👧‍👦',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'e\u0301',
  'line\u2028sep\u2029',
  '"quoted" \\ back',
  "'; DROP TABLE brands; --",
  '%00%ff',
  '<script>alert(1)</script>',
  '\u0007\u001b[31mbell',
];

function validString(min: number, max: number, trim: boolean): fc.Arbitrary<string> {
  const fits = (value: string) => {
    const length = (trim ? value.trim() : value).length;
    return length >= min && length <= max;
  };
  return fc
    .oneof(
      fc.constantFrom(...edgeStrings),
      fc.string({ unit: 'binary', minLength: Math.max(min, 1), maxLength: Math.min(max, 30) }),
      fc.array(fc.constantFrom(...edgeStrings), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(' ')),
      fc.constant('é'.repeat(max)),
    )
    .filter(fits);
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const notUuid = fc
  .oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('not-a-uuid', '00000000-0000-0000-0000-00000000000', '{3f0e7c1a-8a4b-4f2e-9c1d-2b7e5a9d4c10}', '1', 'null', '%00'),
    fc.uuid().map((id) => `${id}0`),
    fc.uuid().map((id) => id.replace(/-/g, '')),
    fc.uuid().map((id) => `${id.slice(0, 9)}g${id.slice(10)}`),
    fc.uuid().map((id) => ` ${id}`),
  )
  .filter((value) => !uuidPattern.test(value));

function validValue(spec: Spec): fc.Arbitrary<unknown> {
  const value = validField(spec.field);
  return spec.nullable ? fc.oneof(value, fc.constant(null)) : value;
}

function validField(field: Field): fc.Arbitrary<unknown> {
  switch (field.kind) {
    case 'uuid':
      return fc.uuid({ version: 4 });
    case 'string':
      return validString(field.min, field.max, field.trim);
    case 'email':
      return fc.oneof(
        fc.emailAddress().filter((address) => address.length <= 254),
        fc.constantFrom('ada@example.com', 'ADA@EXAMPLE.COM', ' ada@example.com '),
      );
    case 'newPassword':
      return validString(8, 72, false).filter((value) => Buffer.byteLength(value, 'utf8') <= 72);
    case 'int':
      return fc
        .oneof(fc.integer({ min: field.min, max: field.max }), fc.constantFrom(field.min, field.max))
        .filter((value) => !field.nonZero || value !== 0);
    case 'enum':
      return fc.constantFrom(...field.values);
    case 'bool':
      return fc.boolean();
    case 'format':
      return field.valid;
    case 'object':
      return validObject(field.fields);
    case 'array':
      return fc.array(validField(field.item), { minLength: field.min, maxLength: Math.min(field.max, 3) });
  }
}

function validObject(fields: Fields): fc.Arbitrary<Record<string, unknown>> {
  const required = Object.keys(fields).filter((name) => !fields[name]!.optional);
  return fc.record(Object.fromEntries(Object.entries(fields).map(([name, spec]) => [name, validValue(spec)])), {
    requiredKeys: required,
  });
}

/** JSON values of every type but the one a field takes. */
function wrongTypes(field: Field, nullable: boolean): fc.Arbitrary<unknown> {
  const kinds: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.string({ maxLength: 10 }),
    number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    boolean: fc.boolean(),
    array: fc.array(fc.integer(), { maxLength: 3 }),
    object: fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  };
  const own = { int: 'number', bool: 'boolean', object: 'object', array: 'array' }[field.kind as string] ?? 'string';
  const others = Object.entries(kinds)
    .filter(([kind]) => kind !== own)
    .map(([, arbitrary]) => arbitrary);
  return nullable ? fc.oneof(...others) : fc.oneof(fc.constant(null), ...others);
}

/** A value the field's schema must refuse. */
function invalidValue(spec: Spec): fc.Arbitrary<unknown> {
  const field = spec.field;
  const wrong = wrongTypes(field, spec.nullable ?? false);
  switch (field.kind) {
    case 'uuid':
      return fc.oneof(notUuid, wrong);
    case 'string': {
      const tooLong = fc.integer({ min: field.max + 1, max: field.max + 50 }).map((length) => 'x'.repeat(length));
      const tooShort = field.trim ? fc.constantFrom('', ' ', '\t\n ', '\u00a0\ufeff') : fc.constant('');
      return field.min > 0 ? fc.oneof(tooLong, tooShort, wrong) : fc.oneof(tooLong, wrong);
    }
    case 'email':
      return fc.oneof(
        fc.string({ maxLength: 30 }).filter((value) => !value.includes('@')),
        fc.constantFrom('a@', '@b.c', 'a@b'),
        wrong,
      );
    case 'newPassword':
      return fc.oneof(fc.string({ maxLength: 7 }), fc.constantFrom('😀'.repeat(19), 'é'.repeat(37), ''), wrong);
    case 'int': {
      const numeric = fc.oneof(
        fc.integer({ min: field.max + 1 > Number.MAX_SAFE_INTEGER ? field.max : field.max + 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: field.min - 1 }),
        fc.integer({ min: field.min, max: field.max - 1 }).map((value) => value + 0.5),
        fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, 0.1, -0.5),
        fc.integer({ min: field.min, max: field.max }).map(String),
      );
      const outside = numeric.filter(
        (value) => typeof value !== 'number' || !Number.isInteger(value) || value < field.min || value > field.max,
      );
      return field.nonZero ? fc.oneof(outside, fc.constant(0), wrong) : fc.oneof(outside, wrong);
    }
    case 'enum':
      return fc.oneof(
        fc.string({ maxLength: 12 }).filter((value) => !field.values.includes(value)),
        fc.constantFrom(...field.values).map((value) => `${value.toLowerCase()} `),
        wrong,
      );
    case 'bool':
      return fc.oneof(fc.constantFrom('true', 'false', 0, 1, 'yes'), wrong);
    case 'format':
      return fc.oneof(field.invalid, wrong);
    case 'object':
      return wrong;
    case 'array':
      return fc.oneof(
        wrong,
        ...(field.min > 0 ? [fc.constant([])] : []),
        fc.constant(Array.from({ length: field.max + 1 }, () => ({ productId: randomUUID(), quantity: 1 }))),
      );
  }
}

/** Where one bad field can go: a value, a missing required field, or an unknown key in a strict object. */
interface Site {
  path: string[];
  spec: Spec;
  op: 'invalid' | 'missing' | 'extra';
}

function sitesOf(fields: Fields, prefix: string[] = []): Site[] {
  const sites: Site[] = [{ path: prefix, spec: req(object(fields)), op: 'extra' }];
  for (const [name, spec] of Object.entries(fields)) {
    const path = [...prefix, name];
    sites.push({ path, spec, op: 'invalid' });
    if (!spec.optional) sites.push({ path, spec, op: 'missing' });
    if (spec.field.kind === 'object') sites.push(...sitesOf(spec.field.fields, path));
    if (spec.field.kind === 'array' && spec.field.item.kind === 'object' && spec.field.min > 0)
      sites.push(...sitesOf(spec.field.item.fields, [...path, '0']));
  }
  return sites;
}

/** A copy of `value` with the node at `path` changed by `change` (given its parent and key). */
function changeAt(value: unknown, path: string[], change: (parent: Record<string, unknown>, key: string) => void): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  change(parent, path[path.length - 1]!);
  return copy;
}

const extraKeys = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'id', 'role'),
);

/** A body valid in every field but one, and the path the 400 must name. */
function bodyWithOneBadField(fields: Fields): fc.Arbitrary<{ body: unknown; bad: string }> {
  return fc.tuple(validObject(fields), fc.constantFrom(...sitesOf(fields))).chain(([body, site]) => {
    if (site.op === 'missing')
      return fc.constant({ body: changeAt(body, site.path, (parent, key) => delete parent[key]), bad: site.path.join('.') });
    if (site.op === 'invalid') {
      return invalidValue(site.spec).map((value) => ({
        body: changeAt(body, site.path, (parent, key) => Object.defineProperty(parent, key, { value, enumerable: true, writable: true })),
        bad: site.path.join('.'),
      }));
    }
    const known = site.spec.field.kind === 'object' ? Object.keys(site.spec.field.fields) : [];
    return fc
      .tuple(
        extraKeys.filter((key) => !known.includes(key)),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map(([key, value]) => ({
        body: changeAt(body, [...site.path, key], (parent, name) =>
          Object.defineProperty(parent, name, { value, enumerable: true, writable: true }),
        ),
        bad: [...site.path, key].join('.'),
      }));
  });
}

function validQueryValue(field: QueryField): fc.Arbitrary<string> {
  switch (field.kind) {
    case 'int':
      return fc.oneof(fc.integer({ min: field.min, max: Math.min(field.max, 1000) }), fc.constant(field.max)).map(String);
    case 'text':
      return validString(field.min, field.max, true);
    case 'uuid':
      return fc.uuid({ version: 4 });
    case 'enum':
      return fc.constantFrom(...field.values);
  }
}

function invalidQueryValue(field: QueryField): fc.Arbitrary<string | string[]> {
  const repeated = validQueryValue(field).map((value) => [value, value]);
  switch (field.kind) {
    case 'int':
      return fc.oneof(
        fc.integer({ min: -1_000_000_000, max: field.min - 1 }).map(String),
        fc.constant(String(field.max + 1)),
        fc
          .constantFrom('1000000000', '1e12', '1.5', '-0.5', 'abc', 'NaN', 'Infinity', '9'.repeat(400), '1,2', '[]')
          .filter((value) => !(Number.isInteger(Number(value)) && Number(value) >= field.min && Number(value) <= field.max)),
        repeated,
      );
    case 'text':
      return fc.oneof(
        fc.integer({ min: field.max + 1, max: field.max + 40 }).map((length) => 'q'.repeat(length)),
        fc.constantFrom('   ', '\t'),
        repeated,
      );
    case 'uuid':
      return fc.oneof(notUuid, repeated);
    case 'enum':
      return fc.oneof(
        fc.string({ maxLength: 12 }).filter((value) => !field.values.includes(value)),
        fc.constantFrom('unknown', 'PRICE'),
      );
  }
}

function queryString(query: Partial<Record<string, string | string[]>>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) for (const one of [value ?? []].flat()) search.append(name, one);
  const text = search.toString();
  return text ? `?${text}` : '';
}

function validQuery(fields: Record<string, QueryField> = {}): fc.Arbitrary<Partial<Record<string, string>>> {
  return fc.record(Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, validQueryValue(field)])), { requiredKeys: [] });
}

/** A path parameter value that is not a UUID and still leaves the request on the same route. */
const badParam = notUuid.filter((value) => value !== '' && value !== '.' && value !== '..' && value !== 'me');

const idempotencyKeys = fc.stringMatching(/^[\x21-\x7e]{1,200}$/);
const badIdempotencyKeys = fc.oneof(
  fc.integer({ min: 201, max: 400 }).map((length) => 'k'.repeat(length)),
  fc
    .tuple(fc.stringMatching(/^[\x21-\x7e]{1,20}$/), fc.constantFrom(' ', '\t', 'é', '\u00ff'), fc.stringMatching(/^[\x21-\x7e]{1,20}$/))
    .map(([head, middle, tail]) => `${head}${middle}${tail}`),
);

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
    expect(classificationGaps(served, Object.keys(plans))).to.deep.equal({ missing: [], stale: [] });
  });

  /** Sends a request as the plan's principal and checks what every answer must be. */
  async function call(
    endpoint: ServedEndpoint,
    plan: FuzzPlan,
    request: { params?: Record<string, string>; query?: string; body?: string | Uint8Array; headers?: Record<string, string> },
  ): Promise<RawResponse> {
    const params = Object.fromEntries(Object.entries(request.params ?? {}).map(([name, value]) => [name, encodeURIComponent(value)]));
    const path = `${fillPath(endpoint.path, params)}${request.query ?? ''}`;
    const token = plan.as === 'anonymous' ? undefined : people[plan.as].token;
    const response = await send(serviceUrl(endpoint.service), endpoint.method, path, {
      token,
      body: request.body,
      headers: request.headers,
    });
    counts.requests += 1;
    const context = `${endpoint.key} → ${response.status} for ${path} ${typeof request.body === 'string' ? request.body.slice(0, 300) : ''}`;
    expect(response.status, `${context}: never a 5xx (${response.text.slice(0, 300)})`).to.be.below(500);
    if (response.status >= 400) expectErrorBody(response, context);
    return response;
  }

  const json = { 'content-type': 'application/json' };
  const validParams = (plan: FuzzPlan) => Object.fromEntries((plan.params ?? []).map((name) => [name, randomUUID()]));

  for (const [key, plan] of Object.entries(plans) as [EndpointKey, FuzzPlan][]) {
    const endpoint = () => {
      const found = served.find((one) => one.key === key);
      if (!found) throw new Error(`${key} is not served (see the coverage test)`);
      return found;
    };
    const documented = (response: RawResponse) =>
      expect(endpoint().documented, `${key} answered ${response.status}: ${response.text.slice(0, 300)}`).to.include(response.status);

    describe(key, () => {
      before(() => {
        counts.endpoints += 1;
      });

      if (plan.body) {
        const fields = plan.body;
        it('answers a body with one bad, missing or unknown field with 400 naming it', async () => {
          await fc.assert(
            fc.asyncProperty(
              bodyWithOneBadField(fields),
              fc.option(idempotencyKeys, { nil: undefined }),
              async ({ body, bad }, idempotencyKey) => {
                const response = await call(endpoint(), plan, {
                  params: validParams(plan),
                  body: JSON.stringify(body),
                  headers: { ...json, ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
                });
                expect(response.status, `${bad} in ${JSON.stringify(body).slice(0, 300)}: ${response.text.slice(0, 300)}`).to.equal(400);
                expect(response.json.error.code).to.equal('validation_failed');
                expect(detailPaths(response), `${JSON.stringify(body).slice(0, 300)}`).to.include(bad);
              },
            ),
            { numRuns: numRuns.badField },
          );
        });
      }

      if (plan.query) {
        const fields = plan.query;
        it('answers a query with one bad parameter (negative, huge, fractional, unknown, repeated) with 400 naming it', async () => {
          const oneBad = fc
            .tuple(validQuery(fields), fc.constantFrom(...Object.keys(fields)))
            .chain(([query, name]) => invalidQueryValue(fields[name]!).map((value) => ({ query: { ...query, [name]: value }, bad: name })));
          await fc.assert(
            fc.asyncProperty(oneBad, async ({ query, bad }) => {
              const response = await call(endpoint(), plan, { params: validParams(plan), query: queryString(query) });
              expect(response.status, `${bad}=${JSON.stringify(query[bad])}: ${response.text.slice(0, 300)}`).to.equal(400);
              expect(detailPaths(response)).to.include(bad);
            }),
            { numRuns: numRuns.badField },
          );
        });
      }

      if (plan.params) {
        const names = plan.params;
        it('answers a path parameter that is not a UUID with 400 naming it, and a broken escape with 400', async () => {
          await fc.assert(
            fc.asyncProperty(fc.constantFrom(...names), badParam, async (name, value) => {
              const params = { ...validParams(plan), [name]: value };
              const response = await call(endpoint(), plan, {
                params,
                ...(plan.sample ? { body: JSON.stringify(plan.sample), headers: json } : {}),
              });
              expect(response.status, `${name}=${JSON.stringify(value)}: ${response.text.slice(0, 300)}`).to.equal(400);
              expect(detailPaths(response)).to.include(name);
            }),
            { numRuns: numRuns.badField },
          );
          for (const escape of ['%', '%E0%A4%A', '%zz', '%C0%AF']) {
            const path = fillPath(endpoint().path, Object.fromEntries(names.map((name) => [name, escape])));
            const response = await send(serviceUrl(endpoint().service), endpoint().method, path, {
              token: plan.as === 'anonymous' ? undefined : people[plan.as].token,
            });
            counts.requests += 1;
            expect(response.status, `${path}: ${response.text.slice(0, 300)}`).to.equal(400);
            expectErrorBody(response, path);
          }
        });

        if (!plan.invalidOnly) {
          it('answers an unknown id with 404 not_found', async () => {
            const response = await call(endpoint(), plan, {
              params: validParams(plan),
              ...(plan.sample ? { body: JSON.stringify(plan.sample), headers: json } : {}),
            });
            expect(response.status, response.text).to.equal(404);
            expect(response.json.error.code).to.equal('not_found');
          });
        }
      }

      if (!plan.invalidOnly && !plan.rawBody) {
        it('answers valid-looking input full of edge-case strings and numbers with a documented status, never a 5xx', async () => {
          const bodies = plan.body ? validObject(plan.body).map((body) => JSON.stringify(body)) : fc.constant(undefined);
          await fc.assert(
            fc.asyncProperty(
              bodies,
              validQuery(plan.query),
              fc.option(idempotencyKeys, { nil: undefined }),
              async (body, query, idempotencyKey) => {
                const response = await call(endpoint(), plan, {
                  params: validParams(plan),
                  query: queryString(query),
                  ...(body !== undefined ? { body, headers: json } : {}),
                  ...(plan.idempotencyKey && idempotencyKey ? { headers: { ...json, 'idempotency-key': idempotencyKey } } : {}),
                });
                documented(response);
              },
            ),
            { numRuns: numRuns.validLooking },
          );
        });
      }

      if (plan.as !== 'anonymous') {
        it('answers a malformed, forged or expired Authorization header with 401 unauthorized', async () => {
          await fc.assert(
            fc.asyncProperty(badAuthorizations, async (authorization) => {
              const path = fillPath(endpoint().path, validParams(plan));
              const response = await send(serviceUrl(endpoint().service), endpoint().method, path, {
                headers: { authorization, ...(plan.sample ? json : {}) },
                ...(plan.sample ? { body: JSON.stringify(plan.sample) } : {}),
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

      if (plan.idempotencyKey) {
        it('answers a bad Idempotency-Key header with 400 naming it', async () => {
          await fc.assert(
            fc.asyncProperty(badIdempotencyKeys, async (idempotencyKey) => {
              const body = {
                items: [{ productId: randomUUID(), quantity: 1 }],
                shippingAddress: { line1: 'a', city: 'b', postalCode: 'c', country: 'd' },
              };
              const response = await call(endpoint(), plan, {
                body: JSON.stringify(body),
                headers: { ...json, 'idempotency-key': idempotencyKey },
              });
              expect(response.status, response.text).to.equal(400);
              expect(detailPaths(response)).to.include('Idempotency-Key');
            }),
            { numRuns: numRuns.strings },
          );
        });
      }

      if (plan.body || plan.rawBody) {
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
              const response = await call(endpoint(), plan, { params: validParams(plan), body, headers: json });
              expect(response.status, `${JSON.stringify(body.slice(0, 80))}: ${response.text.slice(0, 300)}`).to.equal(400);
            }),
            { numRuns: numRuns.validLooking },
          );
        });

        it('answers a body of the wrong content type, charset or encoding with 400', async () => {
          const body = JSON.stringify(plan.sample ?? { name: 'x' });
          const variants: Record<string, string>[] = [
            { 'content-type': 'text/plain' },
            { 'content-type': 'application/xml' },
            { 'content-type': 'application/json; charset=utf-16' },
            { 'content-type': 'application/json', 'content-encoding': 'gzip' },
            { 'content-type': 'application/json', 'content-encoding': 'deflate' },
            { 'content-type': 'application/json', 'content-encoding': 'compress' },
          ];
          for (const headers of variants) {
            const response = await call(endpoint(), plan, { params: validParams(plan), body, headers });
            expect(response.status, `${JSON.stringify(headers)}: ${response.text.slice(0, 300)}`).to.equal(400);
          }
        });
      }

      // fetch sends no body with a GET; the JSON parser and its limit are the same for every route.
      if (!key.startsWith('GET ')) {
        it('answers a body beyond the size limit with 413 payload_too_large', async () => {
          // 100kb for JSON (JSON_LIMIT), 1mb for the webhook's raw body.
          const size = plan.rawBody ? 1_100_000 : 120_000;
          const body = JSON.stringify({ name: 'x'.repeat(size) });
          const response = await call(endpoint(), plan, { params: validParams(plan), body, headers: json });
          expect(response.status, response.text.slice(0, 300)).to.equal(413);
          expect(response.json.error.code).to.equal('payload_too_large');
        });
      }

      if (plan.rawBody) {
        it('answers any unsigned or wrongly signed event with 400 bad_request', async () => {
          const signatures = fc.oneof(
            fc.constant(undefined),
            fc.string({ maxLength: 80 }).map((value) => value.replace(/[\r\n\0]/g, '').replace(/[^\x20-\x7e]/g, 'x')),
            fc.integer({ min: 0, max: 2 ** 31 }).map((time) => `t=${time},v1=${'0'.repeat(64)}`),
          );
          await fc.assert(
            fc.asyncProperty(fc.oneof(fc.json(), fc.string({ maxLength: 200 })), signatures, async (body, signature) => {
              const response = await call(endpoint(), plan, {
                body,
                headers: { ...json, ...(signature?.trim() ? { 'stripe-signature': signature } : {}) },
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
