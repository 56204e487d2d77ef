// Fuzz plans read from a service's OpenAPI document: for each operation, who may call it and its
// path, query, header and body parameters as JSON Schema, with fast-check generators of values the
// schema accepts and of values it must refuse. The schemas come from the services' zod route
// definitions, so a new field or bound is fuzzed without anyone writing it down twice.
import fc from 'fast-check';
import type { EndpointKey, Method } from './endpoints.ts';

/** The part of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that the services' documents use. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  not?: JsonSchema;
  format?: string;
  example?: unknown;
  $ref?: string;
  /** Not JSON Schema: a bound on the UTF-8 length (bcrypt reads only 72 bytes). */
  'x-maxBytes'?: number;
  /** Not JSON Schema: a whitespace-only value is accepted, as the value is compared as sent. */
  'x-blankAllowed'?: boolean;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: JsonSchema;
}

interface Operation {
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface OpenApiDocument {
  paths?: Record<string, Partial<Record<Method, Operation>>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export type Access = 'public' | 'authenticated' | 'customer' | 'staff' | 'admin';

export interface HeaderParameter {
  schema: JsonSchema;
  required: boolean;
}

export interface FuzzPlan {
  key: EndpointKey;
  /** The service that serves it. */
  service: string;
  method: Method;
  path: string;
  access: Access;
  params: Record<string, JsonSchema>;
  query: Record<string, JsonSchema>;
  headers: Record<string, HeaderParameter>;
  /** The JSON body; `opaque` when the document names none of its fields (the handler reads the raw bytes). */
  body?: JsonSchema | 'opaque';
  /** A valid body, the same on every run. */
  sample?: unknown;
}

const methods: Method[] = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * One plan per operation of each service's document. `unstated` adds rules the services enforce
 * that their documents do not state, keyed `Component.property`; one that matches nothing throws.
 */
export function fuzzPlans(documents: Record<string, OpenApiDocument>, unstated: Record<string, JsonSchema> = {}): FuzzPlan[] {
  const unused = new Set(Object.keys(unstated));
  const plans = Object.entries(documents).flatMap(([service, document]) => {
    const components = structuredClone(document.components?.schemas ?? {});
    for (const [target, rule] of Object.entries(unstated)) {
      const [component = '', property = ''] = target.split('.');
      const field = components[component]?.properties?.[property];
      if (!field) continue;
      Object.assign(field, rule);
      unused.delete(target);
    }
    return plansOf(service, document, components);
  });
  if (unused.size > 0) throw new Error(`the rules for ${[...unused].join(', ')} match no property of any document`);
  return plans;
}

function plansOf(service: string, document: OpenApiDocument, components: Record<string, JsonSchema>): FuzzPlan[] {
  const plans: FuzzPlan[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of methods) {
      const operation = item[method];
      if (!operation) continue;
      const key = `${method.toUpperCase()} ${path}` as EndpointKey;
      const parameters = (operation.parameters ?? []).map((parameter) => ({
        ...parameter,
        schema: resolve(parameter.schema ?? {}, components, `${key} ${parameter.name}`),
      }));
      const inPlace = (place: string) =>
        Object.fromEntries(parameters.filter((parameter) => parameter.in === place).map((parameter) => [parameter.name, parameter.schema]));
      const headers = Object.fromEntries(
        parameters
          .filter((parameter) => parameter.in === 'header')
          .map((parameter) => [parameter.name, { schema: parameter.schema, required: parameter.required ?? false }]),
      );
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      const resolved = bodySchema && resolve(bodySchema, components, `${key} body`);
      const body = resolved && (resolved.properties ? resolved : 'opaque');
      plans.push({
        key,
        service,
        method,
        path,
        access: accessOf(operation, key),
        params: inPlace('path'),
        query: inPlace('query'),
        headers,
        ...(body ? { body } : {}),
        ...(body && body !== 'opaque' ? { sample: sampleOf(body) } : {}),
      });
    }
  }
  return plans;
}

/** buildOpenApiDocument writes the access level into the description of every protected operation. */
function accessOf(operation: Operation, key: string): Access {
  if (!operation.security?.length) return 'public';
  const access = /Requires an? (authenticated|customer|staff|admin) access token/.exec(operation.description ?? '')?.[1];
  if (!access) throw new Error(`${key} asks for a token but its description names no access level: ${operation.description}`);
  return access as Access;
}

/** The schema with every `$ref` replaced by the component it names. */
function resolve(schema: JsonSchema, components: Record<string, JsonSchema>, where: string, depth = 0): JsonSchema {
  if (depth > 20) throw new Error(`${where}: the schema nests too deep (a cycle?)`);
  const { $ref, ...rest } = schema;
  let own: JsonSchema = rest;
  if ($ref) {
    const name = /^#\/components\/schemas\/(.+)$/.exec($ref)?.[1];
    const target = name === undefined ? undefined : components[name];
    if (!target) throw new Error(`${where}: cannot resolve ${$ref}`);
    own = { ...resolve(target, components, where, depth + 1), ...rest };
  }
  const nested = (value: JsonSchema) => resolve(value, components, where, depth + 1);
  return {
    ...own,
    ...(own.properties
      ? { properties: Object.fromEntries(Object.entries(own.properties).map(([name, value]) => [name, nested(value)])) }
      : {}),
    ...(own.items ? { items: nested(own.items) } : {}),
  };
}

type Kind = 'string' | 'integer' | 'boolean' | 'object' | 'array';

function kindOf(schema: JsonSchema): { kind: Kind; nullable: boolean } {
  const types = schema.type === undefined ? [] : [schema.type].flat();
  const nullable = types.includes('null') || (schema.enum?.includes(null) ?? false);
  const rest = types.filter((type) => type !== 'null');
  if (rest.length === 0 && schema.enum?.every((value) => typeof value === 'string')) return { kind: 'string', nullable };
  const kind = rest[0];
  if (rest.length !== 1 || !['string', 'integer', 'boolean', 'object', 'array'].includes(kind!))
    throw new Error(`the fuzzer cannot generate values for ${JSON.stringify(schema).slice(0, 200)}`);
  return { kind: kind as Kind, nullable };
}

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

/** Strings for a pattern to refuse: empty, blank, near misses of the formats in use, control characters, too long. */
const junk = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\t\n ', '-x', 'a b', 'usd', 'é', 'pm_', 'pm_card visa', '+', '\u0000', 'x'.repeat(120)),
);

/** Blank strings: a trimmed field is empty with any of them. */
const blanks = ['', ' ', '\t\n ', '\u00a0\ufeff'];

/** The form zod's z.uuid() checks (RFC 9562: a version digit and the variant bits). */
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const notUuid = fc
  .oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('not-a-uuid', '00000000-0000-0000-0000-00000000000', '{3f0e7c1a-8a4b-4f2e-9c1d-2b7e5a9d4c10}', '1', 'null', '%00'),
    fc.uuid().map((id) => `${id}0`),
    fc.uuid().map((id) => id.replace(/-/g, '')),
    fc.uuid().map((id) => `${id.slice(0, 9)}g${id.slice(10)}`),
    fc.uuid().map((id) => ` ${id}`),
  )
  .filter((value) => !uuidPattern.test(value));

const notEmail = fc.oneof(
  fc.string({ maxLength: 30 }).filter((value) => !value.includes('@')),
  fc.constantFrom('a@', '@b.c', 'a@b'),
);

/** A string's length as JSON Schema and zod count it: in code points, so an emoji is one. */
const lengthOf = (value: string) => [...value].length;

/**
 * Whether a string meets the schema's length, byte and pattern bounds, read both as sent and
 * trimmed: the services trim most text fields, and the document does not say which.
 */
function fitsString(schema: JsonSchema, value: string): boolean {
  const pattern = schema.pattern === undefined ? undefined : new RegExp(schema.pattern);
  return [value, value.trim()].every(
    (reading) =>
      lengthOf(reading) >= (schema.minLength ?? 0) &&
      lengthOf(reading) <= (schema.maxLength ?? Infinity) &&
      Buffer.byteLength(reading, 'utf8') <= (schema['x-maxBytes'] ?? Infinity) &&
      (pattern?.test(reading) ?? true),
  );
}

/** Whether a generated value breaks one of the schema's checks. */
function refuses(schema: JsonSchema, value: unknown): boolean {
  return schema.not?.const !== undefined && value === schema.not.const;
}

function validString(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.enum) return fc.constantFrom(...(schema.enum.filter((value) => typeof value === 'string') as string[]));
  if (typeof schema.const === 'string') return fc.constant(schema.const);
  if (schema.format === 'uuid') return fc.uuid({ version: 4 });
  const max = schema.maxLength ?? Infinity;
  if (schema.format === 'email')
    return fc.oneof(
      fc.emailAddress().filter((address) => address.length <= max),
      fc.constantFrom('ada@example.com', 'ADA@EXAMPLE.COM', ' ada@example.com '),
    );
  const min = schema.minLength ?? 0;
  const bytes = schema['x-maxBytes'];
  const examples = typeof schema.example === 'string' ? [fc.constant(schema.example)] : [];
  const shapes = schema.pattern
    ? [fc.stringMatching(new RegExp(schema.pattern))]
    : [
        fc.constantFrom(...edgeStrings),
        fc.string({ unit: 'binary', minLength: Math.max(min, 1), maxLength: Math.min(max, Math.max(min, 30)) }),
        fc.array(fc.constantFrom(...edgeStrings), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(' ')),
        // The longest value allowed, in two-byte characters.
        ...(max < Infinity ? [fc.constant('é'.repeat(max))] : []),
        ...(bytes !== undefined ? [fc.constant('é'.repeat(Math.floor(bytes / 2)))] : []),
      ];
  return fc.oneof(...examples, ...shapes).filter((value) => fitsString(schema, value));
}

/** Strings the schema refuses, under either reading (as sent or trimmed). */
function invalidString(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.enum)
    return fc.oneof(fc.string({ maxLength: 12 }), lowerCasedWithSpace(schema.enum)).filter((value) => !schema.enum!.includes(value));
  if (schema.const !== undefined) return fc.string({ maxLength: 12 }).filter((value) => value !== schema.const);
  if (schema.format === 'uuid') return notUuid;
  const min = schema.minLength ?? 0;
  const choices: fc.Arbitrary<string>[] = [];
  if (schema.format === 'email') choices.push(notEmail);
  if (schema.maxLength !== undefined)
    choices.push(fc.integer({ min: schema.maxLength + 1, max: schema.maxLength + 50 }).map((length) => 'x'.repeat(length)));
  if (min > 0) choices.push(fc.constantFrom(...(schema['x-blankAllowed'] ? [''] : blanks)));
  if (min > 1) choices.push(fc.string({ maxLength: min - 1 }));
  const bytes = schema['x-maxBytes'];
  if (bytes !== undefined) {
    // Within the length bounds, over the byte bound: two- and four-byte characters.
    const overBytes = ['é'.repeat(Math.ceil((bytes + 1) / 2)), '😀'.repeat(Math.ceil((bytes + 1) / 4))];
    choices.push(
      fc.constantFrom(...overBytes.filter((value) => lengthOf(value) >= min && lengthOf(value) <= (schema.maxLength ?? Infinity))),
    );
  }
  if (schema.pattern) choices.push(junk.filter((value) => !fitsString({ pattern: schema.pattern }, value)));
  return fc.oneof(...choices);
}

function lowerCasedWithSpace(values: unknown[]): fc.Arbitrary<string> {
  return fc.constantFrom(...values.filter((value) => typeof value === 'string')).map((value) => `${value.toLowerCase()} `);
}

function intBounds(schema: JsonSchema): { min: number; max: number } {
  return { min: schema.minimum ?? Number.MIN_SAFE_INTEGER, max: schema.maximum ?? Number.MAX_SAFE_INTEGER };
}

/** JSON values of every type but the schema's own (and but null, when it is nullable). */
function wrongTypes(kind: Kind, nullable: boolean): fc.Arbitrary<unknown> {
  const kinds: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.string({ maxLength: 10 }),
    number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    boolean: fc.boolean(),
    array: fc.array(fc.integer(), { maxLength: 3 }),
    object: fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  };
  const own = kind === 'integer' ? 'number' : kind;
  const others = Object.entries(kinds)
    .filter(([name]) => name !== own)
    .map(([, arbitrary]) => arbitrary);
  return nullable ? fc.oneof(...others) : fc.oneof(fc.constant(null), ...others);
}

/** A JSON value the schema accepts. */
export function validValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const { kind, nullable } = kindOf(schema);
  const value = validOfKind(schema, kind);
  return nullable ? fc.oneof(value, fc.constant(null)) : value;
}

function validOfKind(schema: JsonSchema, kind: Kind): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'string':
      return validString(schema);
    case 'integer': {
      const { min, max } = intBounds(schema);
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max)).filter((value) => !refuses(schema, value));
    }
    case 'boolean':
      return fc.boolean();
    case 'object':
      return validObject(schema);
    case 'array':
      return fc.array(validValue(schema.items ?? {}), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)),
      });
  }
}

export function validObject(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  return fc.record(Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, validValue(property)])), {
    requiredKeys: schema.required ?? [],
  });
}

/** A JSON value the schema must refuse. */
export function invalidValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const { kind, nullable } = kindOf(schema);
  const wrong = wrongTypes(kind, nullable);
  switch (kind) {
    case 'string':
      return fc.oneof(invalidString(schema), wrong);
    case 'integer': {
      const { min, max } = intBounds(schema);
      const numeric = fc.oneof(
        fc.integer({ min: Math.min(max + 1, Number.MAX_SAFE_INTEGER), max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Math.max(min - 1, Number.MIN_SAFE_INTEGER) }),
        fc.integer({ min, max: max - 1 }).map((value) => value + 0.5),
        fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, 0.1, -0.5),
        fc.integer({ min, max }).map(String),
      );
      const outside = numeric.filter((value) => typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max);
      const refused = schema.not?.const !== undefined ? [fc.constant(schema.not.const)] : [];
      return fc.oneof(outside, ...refused, wrong);
    }
    case 'boolean':
      return fc.oneof(fc.constantFrom('true', 'false', 0, 1, 'yes'), wrong);
    case 'object':
      return wrong;
    case 'array': {
      const tooMany =
        schema.maxItems === undefined
          ? []
          : [fc.array(validValue(schema.items ?? {}), { minLength: schema.maxItems + 1, maxLength: schema.maxItems + 1 })];
      return fc.oneof(wrong, ...((schema.minItems ?? 0) > 0 ? [fc.constant([])] : []), ...tooMany);
    }
  }
}

/** Where one bad field can go: a value, a missing required field, or an unknown key in a closed object. */
export interface Site {
  path: string[];
  op: 'invalid' | 'missing' | 'extra';
  schema: JsonSchema;
}

/** Every site of an object body, into the objects that are always present (required ones, and the first item of a non-empty array). */
export function sitesOf(schema: JsonSchema, prefix: string[] = []): Site[] {
  const sites: Site[] = schema.additionalProperties === false ? [{ path: prefix, op: 'extra', schema }] : [];
  const required = new Set(schema.required ?? []);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, name];
    sites.push({ path, op: 'invalid', schema: property });
    if (!required.has(name)) continue;
    sites.push({ path, op: 'missing', schema: property });
    if (property.properties) sites.push(...sitesOf(property, path));
    if (property.items?.properties && (property.minItems ?? 0) > 0) sites.push(...sitesOf(property.items, [...path, '0']));
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

/** Sets a key as an own property, even `__proto__`. */
const setOwn = (value: unknown) => (parent: Record<string, unknown>, key: string) =>
  Object.defineProperty(parent, key, { value, enumerable: true, writable: true });

const extraKeys = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'id', 'role'),
);

/** A body valid in every field but one, and the path the 400 must name. */
export function bodyWithOneBadField(schema: JsonSchema): fc.Arbitrary<{ body: unknown; bad: string }> {
  return fc.tuple(validObject(schema), fc.constantFrom(...sitesOf(schema))).chain(([body, site]) => {
    if (site.op === 'missing')
      return fc.constant({ body: changeAt(body, site.path, (parent, key) => delete parent[key]), bad: site.path.join('.') });
    if (site.op === 'invalid')
      return invalidValue(site.schema).map((value) => ({ body: changeAt(body, site.path, setOwn(value)), bad: site.path.join('.') }));
    const known = Object.keys(site.schema.properties ?? {});
    return fc
      .tuple(
        extraKeys.filter((key) => !known.includes(key)),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map(([key, value]) => ({ body: changeAt(body, [...site.path, key], setOwn(value)), bad: [...site.path, key].join('.') }));
  });
}

/** A valid value that is the same on every run: the example where there is one, else the smallest that fits. */
export function sampleOf(schema: JsonSchema): unknown {
  const { kind } = kindOf(schema);
  switch (kind) {
    case 'string': {
      if (schema.enum) return schema.enum[0];
      if (schema.const !== undefined) return schema.const;
      if (typeof schema.example === 'string') return schema.example;
      if (schema.format === 'uuid') return '3f0e7c1a-8a4b-4f2e-9c1d-2b7e5a9d4c10';
      if (schema.format === 'email') return 'ada@example.com';
      return schema.pattern ? fc.sample(validString(schema), { seed: 1, numRuns: 1 })[0] : 'x'.repeat(Math.max(schema.minLength ?? 0, 1));
    }
    case 'integer': {
      const { min, max } = intBounds(schema);
      const fits = (value: unknown) => typeof value === 'number' && value >= min && value <= max && !refuses(schema, value);
      return [schema.example, 1, min].find(fits);
    }
    case 'boolean':
      return true;
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      // Without a required field, one field: the update bodies refuse an empty object.
      const chosen = schema.required?.length ? properties.filter(([name]) => schema.required!.includes(name)) : properties.slice(0, 1);
      return Object.fromEntries(chosen.map(([name, property]) => [name, sampleOf(property)]));
    }
    case 'array':
      return Array.from({ length: Math.max(schema.minItems ?? 0, 1) }, () => sampleOf(schema.items ?? {}));
  }
}

/** A query parameter the schema accepts, as its text. */
export function validQueryValue(schema: JsonSchema): fc.Arbitrary<string> {
  const { kind } = kindOf(schema);
  if (kind === 'integer') {
    const { min, max } = intBounds(schema);
    return fc.oneof(fc.integer({ min, max: Math.min(max, 1000) }), fc.constant(max)).map(String);
  }
  if (kind === 'string') return validString(schema);
  throw new Error(`the fuzzer cannot put ${JSON.stringify(schema)} in a query`);
}

/** A query parameter the schema refuses: out of bounds, not a number, too long, blank, or repeated. */
export function invalidQueryValue(schema: JsonSchema): fc.Arbitrary<string | string[]> {
  const { kind } = kindOf(schema);
  const repeated = validQueryValue(schema).map((value) => [value, value]);
  if (kind === 'integer') {
    const { min, max } = intBounds(schema);
    return fc.oneof(
      fc.integer({ min: Math.min(-1_000_000_000, min - 1), max: min - 1 }).map(String),
      fc.constant(String(max + 1)),
      fc
        .constantFrom('1000000000', '1e12', '1.5', '-0.5', 'abc', 'NaN', 'Infinity', '9'.repeat(400), '1,2', '[]')
        .filter((value) => !(Number.isInteger(Number(value)) && Number(value) >= min && Number(value) <= max)),
      repeated,
    );
  }
  if (schema.enum)
    return fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('unknown', 'PRICE')).filter((value) => !schema.enum!.includes(value));
  if (schema.format === 'uuid') return fc.oneof(notUuid, repeated);
  const min = schema.minLength ?? 0;
  return fc.oneof(
    ...(schema.maxLength !== undefined
      ? [fc.integer({ min: schema.maxLength + 1, max: schema.maxLength + 40 }).map((length) => 'q'.repeat(length))]
      : []),
    ...(min > 0 ? [fc.constantFrom('   ', '\t')] : []),
    ...(min > 1 ? [fc.constant('q'.repeat(min - 1))] : []),
    repeated,
  );
}

export function validQuery(query: Record<string, JsonSchema>): fc.Arbitrary<Partial<Record<string, string>>> {
  return fc.record(Object.fromEntries(Object.entries(query).map(([name, schema]) => [name, validQueryValue(schema)])), {
    requiredKeys: [],
  });
}

/** A query valid in every parameter but one, and that parameter's name. */
export function queryWithOneBadParameter(
  query: Record<string, JsonSchema>,
): fc.Arbitrary<{ query: Record<string, string | string[]>; bad: string }> {
  return fc.tuple(validQuery(query), fc.constantFrom(...Object.keys(query))).chain(([valid, name]) =>
    invalidQueryValue(query[name]!).map((value) => ({
      query: { ...valid, [name]: value } as Record<string, string | string[]>,
      bad: name,
    })),
  );
}

/** A path parameter value the schema refuses that still leaves the request on the same route. */
export function invalidPathValue(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.format !== 'uuid') throw new Error(`the fuzzer knows only UUID path parameters, not ${JSON.stringify(schema)}`);
  return notUuid.filter((value) => value !== '' && value !== '.' && value !== '..' && value !== 'me');
}

/** Whether a header's schema says anything a value can break. */
export function constrains(schema: JsonSchema): boolean {
  return schema.pattern !== undefined || schema.maxLength !== undefined || schema.minLength !== undefined || schema.enum !== undefined;
}

/** A header value the schema accepts (fetch sends only Latin-1 and strips surrounding whitespace). */
export function validHeaderValue(schema: JsonSchema): fc.Arbitrary<string> {
  return validString(schema).filter((value) => /^[\x21-\x7e](?:[\x20-\x7e\t\x80-\xff]*[\x21-\x7e\x80-\xff])?$/.test(value));
}

/** A header value the schema refuses: too long, or a valid one with a character inside that the pattern refuses. */
export function invalidHeaderValue(schema: JsonSchema): fc.Arbitrary<string> {
  const choices: fc.Arbitrary<string>[] = [];
  if (schema.maxLength !== undefined)
    choices.push(fc.integer({ min: schema.maxLength + 1, max: 2 * schema.maxLength }).map((length) => 'k'.repeat(length)));
  if (schema.pattern) {
    const part = validHeaderValue({ ...schema, maxLength: Math.min(schema.maxLength ?? 20, 20) });
    choices.push(
      fc
        .tuple(part, fc.constantFrom(' ', '\t', 'é', '\u00ff'), part)
        .map(([head, odd, tail]) => `${head}${odd}${tail}`)
        .filter((value) => !fitsString({ pattern: schema.pattern }, value)),
    );
  }
  if (choices.length === 0) throw new Error(`nothing in ${JSON.stringify(schema)} for a header value to break`);
  return fc.oneof(...choices);
}
