import { expect } from 'chai';
import type { Request } from 'express';
import fc from 'fast-check';
import { ValidationError } from '@mart/common/errors';
import { buildOpenApiDocument, defineRoute, parseRequest, type RouteDefinition } from '@mart/common/http';
import { idParams, pageQuery, uuidSchema, z } from '@mart/common/zod';
import {
  bodyWithOneBadField,
  fuzzPlans,
  invalidHeaderValue,
  invalidPathValue,
  queryWithOneBadParameter,
  sitesOf,
  validHeaderValue,
  validObject,
  validQuery,
  type FuzzPlan,
  type JsonSchema,
  type OpenApiDocument,
} from './fuzz.plans.ts';

// A sample service with the constructs the real ones use; its validation (parseRequest, the code
// every route runs) is the judge of what the generated values are.
const name = z.string().trim().min(1).max(10);
const address = z.object({ line1: name, line2: name.optional() }).strict().openapi('Address');
const createThing = z
  .object({
    name,
    code: z
      .string()
      .regex(/^[A-Z]{2}[0-9]$/)
      .optional(),
    secret: z
      .string()
      .min(1)
      .max(30)
      .refine((value) => Buffer.byteLength(value) <= 12),
    count: z
      .number()
      .int()
      .min(1)
      .max(5)
      .refine((value) => value !== 3),
    kind: z.enum(['small', 'large']),
    active: z.boolean().optional(),
    note: z.string().max(8).nullable().optional(),
    ownerId: uuidSchema,
    address,
    lines: z
      .array(z.object({ productId: uuidSchema, quantity: z.number().int().min(1).max(3) }).strict())
      .min(1)
      .max(2),
  })
  .strict()
  .openapi('CreateThing');
const updateThing = z
  .object({ name: name.optional(), note: z.string().max(8).nullable().optional() })
  .strict()
  .openapi('UpdateThing');
const listQuery = pageQuery.extend({
  q: z.string().trim().min(2).max(5).optional(),
  ownerId: uuidSchema.optional(),
  kind: z.enum(['small', 'large']).optional(),
});
const headers = z.object({
  'Request-Key': z
    .string()
    .regex(/^[\x21-\x7e]+$/)
    .max(12)
    .optional(),
});
const handler = async () => ({});

const routes: RouteDefinition[] = [
  defineRoute({ method: 'post', path: '/things', summary: 'create', access: 'staff', body: createThing, headers, status: 201, handler }),
  defineRoute({ method: 'get', path: '/things', summary: 'list', access: 'public', query: listQuery, status: 200, handler }),
  defineRoute({
    method: 'patch',
    path: '/things/:id',
    summary: 'update',
    access: 'authenticated',
    params: idParams,
    body: updateThing,
    status: 200,
    handler,
  }),
];
const document = buildOpenApiDocument({ title: 'things', version: '0' }, routes) as OpenApiDocument;
// Like the payment webhook: a body the handler reads raw, documented by hand.
document.paths!['/hooks'] = { post: { requestBody: { content: { 'application/json': { schema: { type: 'object' } } } } } };

// What zod checks in a refine and the document cannot say.
const unstated: Record<string, JsonSchema> = {
  'CreateThing.secret': { 'x-maxBytes': 12, 'x-blankAllowed': true },
  'CreateThing.count': { not: { const: 3 } },
};
const plans = new Map(fuzzPlans({ things: document }, unstated).map((plan) => [plan.key, plan]));
const planOf = (key: string): FuzzPlan => plans.get(key as FuzzPlan['key'])!;
const bodyOf = (key: string): JsonSchema => planOf(key).body as JsonSchema;

/** The paths parseRequest names for a request, or [] when it accepts it. */
function refusedPaths(route: RouteDefinition, request: { params?: unknown; query?: unknown; body?: unknown }): string[] {
  try {
    parseRequest(route, { params: {}, query: {}, ...request } as Request);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.details.map((detail) => detail.path);
  }
}

describe('fuzz plans from an OpenAPI document', () => {
  it('derives one plan per operation: access, parameters, headers and body', () => {
    expect([...plans.keys()]).to.deep.equal(['GET /things', 'POST /things', 'PATCH /things/{id}', 'POST /hooks']);
    expect(planOf('POST /things')).to.deep.include({ service: 'things', access: 'staff', params: {}, query: {} });
    expect(planOf('POST /things').headers['Request-Key']).to.deep.include({ required: false });
    expect(planOf('GET /things').access).to.equal('public');
    expect(Object.keys(planOf('GET /things').query)).to.deep.equal(['page', 'pageSize', 'q', 'ownerId', 'kind']);
    expect(planOf('GET /things').body).to.equal(undefined);
    expect(planOf('PATCH /things/{id}').access).to.equal('authenticated');
    expect(planOf('PATCH /things/{id}').params.id).to.deep.include({ format: 'uuid' });
    expect(planOf('POST /hooks')).to.deep.include({ access: 'public', body: 'opaque' });
    expect(bodyOf('POST /things').properties!.address).to.deep.include({ additionalProperties: false, required: ['line1'] });
    expect(bodyOf('POST /things').properties!.secret).to.deep.include({ maxLength: 30, 'x-maxBytes': 12 });
  });

  it('finds every site of one bad field: each value, each required field, an unknown key in each closed object', () => {
    const sites = sitesOf(bodyOf('POST /things')).map((site) => `${site.op} ${site.path.join('.')}`);
    expect(sites).to.deep.equal([
      'extra ',
      ...['invalid name', 'missing name', 'invalid code', 'invalid secret', 'missing secret', 'invalid count', 'missing count'],
      ...['invalid kind', 'missing kind', 'invalid active', 'invalid note', 'invalid ownerId', 'missing ownerId'],
      ...['invalid address', 'missing address', 'extra address', 'invalid address.line1', 'missing address.line1', 'invalid address.line2'],
      ...['invalid lines', 'missing lines', 'extra lines.0', 'invalid lines.0.productId', 'missing lines.0.productId'],
      ...['invalid lines.0.quantity', 'missing lines.0.quantity'],
    ]);
  });

  it('makes valid bodies and a sample that the schema accepts', () => {
    fc.assert(
      fc.property(validObject(bodyOf('POST /things')), (body) => {
        expect(createThing.safeParse(body).error?.issues ?? []).to.deep.equal([]);
      }),
      { numRuns: 300 },
    );
    expect(createThing.safeParse(planOf('POST /things').sample).success).to.equal(true);
    expect(planOf('PATCH /things/{id}').sample).to.deep.equal({ name: 'x' });
  });

  it('makes bodies with one bad field that validation refuses, naming that field', () => {
    fc.assert(
      fc.property(bodyWithOneBadField(bodyOf('POST /things')), ({ body, bad }) => {
        expect(refusedPaths(routes[0]!, { body: body }), JSON.stringify(body)).to.include(bad);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a blank value only where the field is trimmed, and a value over the byte bound', () => {
    const values = (key: string) =>
      new Set(
        fc
          .sample(bodyWithOneBadField(bodyOf('POST /things')), { numRuns: 3000, seed: 7 })
          .map((one) => JSON.stringify([one.bad, (one.body as Record<string, unknown>)[key]])),
      );
    expect(values('name')).to.include(JSON.stringify(['name', ' ']));
    expect(values('secret')).not.to.include(JSON.stringify(['secret', ' ']));
    expect(values('secret')).to.include(JSON.stringify(['secret', 'é'.repeat(7)]));
    expect(values('count')).to.include(JSON.stringify(['count', 3]));
  });

  it('makes valid queries, and queries with one bad parameter that validation refuses by name', () => {
    const query = planOf('GET /things').query;
    fc.assert(
      fc.property(validQuery(query), (valid) => {
        expect(listQuery.safeParse(valid).error?.issues ?? []).to.deep.equal([]);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(queryWithOneBadParameter(query), ({ query: bad, bad: name }) => {
        expect(refusedPaths(routes[1]!, { query: bad }), JSON.stringify(bad)).to.include(name);
      }),
      { numRuns: 300 },
    );
  });

  it('makes path parameters and header values that validation refuses', () => {
    fc.assert(
      fc.property(invalidPathValue(planOf('PATCH /things/{id}').params.id!), (id) => {
        expect(refusedPaths(routes[2]!, { params: { id }, body: { name: 'x' } })).to.include('id');
      }),
    );
    const header = planOf('POST /things').headers['Request-Key']!.schema;
    fc.assert(
      fc.property(validHeaderValue(header), (value) => {
        expect(headers.safeParse({ 'Request-Key': value }).success, value).to.equal(true);
      }),
    );
    fc.assert(
      fc.property(invalidHeaderValue(header), (value) => {
        expect(headers.safeParse({ 'Request-Key': value }).success, value).to.equal(false);
      }),
    );
  });

  it('throws on a rule for a property the document lacks, and on a token without an access level', () => {
    expect(() => fuzzPlans({ things: document }, { 'CreateThing.colour': { maxLength: 3 } })).to.throw(/CreateThing.colour/);
    const secured = { paths: { '/x': { get: { security: [{ bearerAuth: [] }], description: 'Somebody' } } } };
    expect(() => fuzzPlans({ secured })).to.throw(/GET \/x/);
  });
});
