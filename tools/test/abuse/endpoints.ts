// What the HTTP abuse suites share: the endpoints the running services really serve (read from
// their /openapi.json, so a new route cannot escape classification), raw requests, the error body
// check, and real principals (tokens auth-service issued) to send them as.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { adminCredentials, api, eventually, serviceUrl } from '@mart/common/testing';
import { SERVICES } from '../../services.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const methods: Method[] = ['get', 'post', 'put', 'patch', 'delete'];

/** `METHOD /path` with OpenAPI path parameters, e.g. `GET /brands/{id}`: one key per operation. */
export type EndpointKey = `${'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} /${string}`;

export interface Operation {
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
}

export interface ServedEndpoint {
  key: EndpointKey;
  service: string;
  method: Method;
  /** OpenAPI form: `/brands/{id}`. */
  path: string;
  /** Statuses the operation documents: its success and its errors. */
  documented: number[];
  /** The one 2xx status the operation answers with when it succeeds. */
  success: number;
  /** Whether the document asks for a bearer token. */
  bearer: boolean;
}

/** Every HTTP service: all but db-service, which serves only probes. */
export const httpServices = SERVICES.filter((service) => service.pathPrefix !== null).map((service) => service.name);

export function endpointKey(method: Method, path: string): EndpointKey {
  return `${method.toUpperCase()} ${path}` as EndpointKey;
}

/** Every operation of every running service, from the /openapi.json each one serves. */
export async function servedEndpoints(): Promise<ServedEndpoint[]> {
  const served: ServedEndpoint[] = [];
  for (const service of httpServices) {
    const response = await fetch(`${serviceUrl(service)}/openapi.json`);
    expect(response.status, `${service} /openapi.json`).to.equal(200);
    const document = (await response.json()) as { paths?: Record<string, Partial<Record<Method, Operation>>> };
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const method of methods) {
        const operation = item[method];
        if (!operation) continue;
        const documented = Object.keys(operation.responses ?? {}).map(Number);
        const successes = documented.filter((status) => status >= 200 && status < 300);
        expect(successes, `${method} ${path} documents one success`).to.have.length(1);
        const bearer = (operation.security ?? []).some((requirement) => 'bearerAuth' in requirement);
        served.push({ key: endpointKey(method, path), service, method, path, documented, success: successes[0]!, bearer });
      }
    }
  }
  return served;
}

/** Served endpoints that a plan lacks, and plan entries no service serves (stale). */
export function classificationGaps(served: ServedEndpoint[], planned: Iterable<string>): { missing: string[]; stale: string[] } {
  const plannedKeys = new Set<string>(planned);
  const servedKeys = new Set<string>(served.map((endpoint) => endpoint.key));
  return {
    missing: [...servedKeys].filter((key) => !plannedKeys.has(key)).sort(),
    stale: [...plannedKeys].filter((key) => !servedKeys.has(key)).sort(),
  };
}

/** `/orders/{id}/cancel` with `{ id }` → `/orders/<id>/cancel`; values are put in as given (not encoded). */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${path}`);
    return value;
  });
}

export interface RawResponse {
  status: number;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
}

/** One request with the body sent exactly as given (a string or bytes), for malformed input. */
export async function send(
  baseUrl: string,
  method: Method,
  path: string,
  options: { token?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: method.toUpperCase(),
    headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined; // not JSON: expectErrorBody says so when an error body was due
  }
  return { status: response.status, text, json };
}

/** The documented error body (API.md conventions), with the code that goes with the status. */
export function expectErrorBody(response: RawResponse, context: string): void {
  const body = response.json as { error?: { code?: unknown; message?: unknown; details?: unknown }; requestId?: unknown } | undefined;
  expect(body, `${context}: error body is JSON (${response.text.slice(0, 200)})`).to.be.an('object');
  expect(body!.error, `${context}: error`).to.be.an('object');
  expect(body!.error!.code, `${context}: error.code`).to.be.oneOf(codesByStatus[response.status] ?? ['(no error code for this status)']);
  expect(body!.error!.message, `${context}: error.message`).to.be.a('string');
  expect(body!.error!.details, `${context}: error.details`).to.be.an('array');
  for (const detail of body!.error!.details as { path?: unknown; message?: unknown }[]) {
    expect(detail.path, `${context}: detail path`).to.be.a('string');
    expect(detail.message, `${context}: detail message`).to.be.a('string');
  }
  expect(body!.requestId, `${context}: requestId`).to.be.a('string');
}

/** API.md's table of error statuses and their codes. */
export const codesByStatus: Record<number, string[]> = {
  400: ['validation_failed', 'bad_request'],
  401: ['unauthorized'],
  403: ['forbidden'],
  404: ['not_found'],
  409: ['conflict', 'insufficient_stock', 'invalid_state'],
  413: ['payload_too_large'],
  429: ['rate_limited'],
  503: ['unavailable'],
  504: ['upstream_timeout'],
};

/** The paths a validation error names, e.g. `['items.0.quantity']`. */
export function detailPaths(response: RawResponse): string[] {
  const details = (response.json as { error?: { details?: { path?: string }[] } } | undefined)?.error?.details ?? [];
  return details.map((detail) => detail.path ?? '');
}

export type Role = 'anonymous' | 'customerA' | 'customerB' | 'staff' | 'admin';
export const roles: Role[] = ['anonymous', 'customerA', 'customerB', 'staff', 'admin'];

export interface Person {
  id: string;
  email: string;
  password: string;
  token: string;
}

export interface Principals {
  admin: Person;
  staff: Person;
  customerA: Person;
  customerB: Person;
  tokenOf(role: Role): string | undefined;
}

export const password = 'correct horse battery';

/**
 * The first admin, a staff user it creates, and two registered customers, each signed in through
 * auth-service: the tokens are the ones real clients get, not minted by the test.
 */
export async function signInEveryone(tag: string): Promise<Principals> {
  const run = `${tag}-${randomUUID().slice(0, 8)}`;
  const auth = api(serviceUrl('auth-service'));
  const login = async (path: string, email: string, secret: string): Promise<string> => {
    const result = await auth.call('POST', path, { body: { email, password: secret } });
    expect(result.status, `${path} ${email}: ${JSON.stringify(result.body)}`).to.equal(200);
    return result.body.accessToken as string;
  };
  const { email: adminEmail, password: adminPassword } = adminCredentials();
  const adminToken = await login('/auth/admin/login', adminEmail, adminPassword);
  const me = await auth.call('GET', '/auth/me', { token: adminToken });
  const admin: Person = { id: me.body.sub, email: adminEmail, password: adminPassword, token: adminToken };

  const staffEmail = `${run}-staff@mart.test`;
  const created = await api(serviceUrl('user-service')).call('POST', '/users', {
    token: adminToken,
    body: { email: staffEmail, name: `Staff ${run}`, password, role: 'staff' },
  });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const staff: Person = { id: created.body.id, email: staffEmail, password, token: await login('/auth/admin/login', staffEmail, password) };

  const customer = async (name: string): Promise<Person> => {
    const email = `${run}-${name}@example.com`;
    const registered = await api(serviceUrl('customer-service')).call('POST', '/customers', {
      body: { email, password, name: `Customer ${name}` },
    });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    return { id: registered.body.id, email, password, token: await login('/auth/login', email, password) };
  };
  const customerA = await customer('a');
  const customerB = await customer('b');
  const people = { admin, staff, customerA, customerB };
  return { ...people, tokenOf: (role) => (role === 'anonymous' ? undefined : people[role].token) };
}

/** Every service is alive (/health) and, within a few seconds, ready (/ready): nothing crashed or wedged. */
export async function expectEveryServiceUp(): Promise<void> {
  for (const service of [...httpServices, 'db-service']) {
    const health = await send(serviceUrl(service), 'get', '/health');
    expect(health.status, `${service} /health: ${health.text}`).to.equal(200);
    // Readiness pings db-service with a short timeout: a busy moment may fail one probe, not several.
    await eventually(
      async () => {
        const ready = await send(serviceUrl(service), 'get', '/ready');
        expect(ready.status, `${service} /ready: ${ready.text}`).to.equal(200);
        return true;
      },
      `${service} to be ready`,
      { intervalMs: 250 },
    );
  }
}
