// Every route of the public contract (../shared/API.md beside the repository) must appear in
// its service's OpenAPI document, built here from the services' own route definitions without
// Kafka, and every route that needs a token must declare bearer security.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { buildOpenApiDocument, type OpenApiDocument, type RouteDefinition } from '@mart/common/http';
import { createLogger } from '@mart/common/logger';
import { fakeRpc } from '@mart/common/testing';
import { authRoutes } from '../../auth-service/src/auth.routes.ts';
import { documentOAuthPasswordFlow } from '../../auth-service/src/auth.oauth.ts';
import { brandRoutes } from '../../brand-service/src/brand.routes.ts';
import { categoryRoutes } from '../../category-service/src/category.routes.ts';
import { customerRoutes } from '../../customer-service/src/customer.routes.ts';
import { inventoryRoutes } from '../../inventory-service/src/inventory.routes.ts';
import { notificationRoutes } from '../../notification-service/src/notification.routes.ts';
import { orderRoutes } from '../../order-service/src/order.routes.ts';
import { paymentRoutes } from '../../payment-service/src/payment.routes.ts';
import { paymentService } from '../../payment-service/src/payment.service.ts';
import { simulatedProvider } from '../../payment-service/src/simulated.provider.ts';
import { documentWebhook } from '../../payment-service/src/stripe.webhook.ts';
import { productRoutes } from '../../product-service/src/product.routes.ts';
import { userRoutes } from '../../user-service/src/user.routes.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** API.md lives in the project's shared folder beside the clone (or wherever MART_SHARED_DIR says). */
/** The contract's owner keeps it in the project's shared folder, beside the clone. */
function sharedContractFile(): string | undefined {
  const candidates = [
    ...(process.env.MART_SHARED_DIR ? [path.join(process.env.MART_SHARED_DIR, 'API.md')] : []),
    path.resolve(repoRoot, '../shared/API.md'),
  ];
  return candidates.find((file) => fs.existsSync(file));
}

/** The copy in the repository, so a clone without the shared folder can read and test it. */
const repoContractFile = path.resolve(repoRoot, 'docs/API.md');

function readApiContract(): string {
  return fs.readFileSync(repoContractFile, 'utf8');
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The backticked `METHOD /path` entries of API.md, with queries dropped and duplicates removed. */
export function contractRoutes(markdown: string): { method: Method; path: string }[] {
  const seen = new Map<string, { method: Method; path: string }>();
  for (const match of markdown.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s?]*)[^`]*`/g)) {
    const method = match[1]!.toLowerCase() as Method;
    const routePath = match[2]!;
    seen.set(`${method} ${routePath}`, { method, path: routePath });
  }
  return [...seen.values()];
}

// Served by createHttpApp itself on every service, outside the OpenAPI document.
const probes = new Set(['/health', '/ready', '/metrics', '/docs', '/openapi.json']);

// The routes API.md opens to anyone; every other listed route needs a bearer token.
const publicRoutes = new Set([
  'post /auth/login',
  'post /auth/admin/login',
  'post /auth/refresh',
  'post /auth/logout',
  'get /auth/.well-known/jwks.json',
  'post /customers',
  'get /brands',
  'get /brands/:id',
  'get /categories',
  'get /categories/:id',
  'get /products',
  'get /products/:id',
  'post /payments/webhook',
]);

// Route construction must not touch Kafka: no command is faked, so a call rejects, and it is recorded.
const rpc = fakeRpc();
const logger = createLogger('openapi-coverage', 'silent');
const unused = {} as never;

const services: Record<string, { routes: RouteDefinition[]; amend?: (document: OpenApiDocument) => void }> = {
  auth: { routes: authRoutes({ rpc, logger }, { tokens: unused, limiter: unused, dummyHash: 'x' }), amend: documentOAuthPasswordFlow },
  users: { routes: userRoutes({ rpc }, { bcryptCost: 4 }) },
  customers: { routes: customerRoutes({ rpc }, { bcryptCost: 4 }) },
  brands: { routes: brandRoutes({ rpc }) },
  categories: { routes: categoryRoutes({ rpc }) },
  products: { routes: productRoutes({ rpc }) },
  inventory: { routes: inventoryRoutes({ rpc }) },
  orders: { routes: orderRoutes({ rpc }, { ttlSeconds: 900 }) },
  payments: { routes: paymentRoutes(paymentService({ rpc, provider: simulatedProvider(), logger })), amend: documentWebhook },
  notifications: { routes: notificationRoutes({ rpc }) },
};

function documentFor(prefix: string): OpenApiDocument {
  const service = services[prefix];
  if (!service) throw new Error(`no service serves /${prefix}`);
  const document = buildOpenApiDocument({ title: prefix, version: '0.0.0' }, service.routes);
  service.amend?.(document);
  return document;
}

describe('OpenAPI coverage of the API contract (docs/API.md)', () => {
  // Read in a hook, not while mocha collects tests: a missing contract then fails these tests
  // with its message instead of aborting every other unit test with it.
  let contract: ReturnType<typeof contractRoutes> = [];
  let documents = new Map<string, ReturnType<typeof documentFor>>();

  before(() => {
    contract = contractRoutes(readApiContract()).filter((route) => !probes.has(route.path));
    documents = new Map(Object.keys(services).map((prefix) => [prefix, documentFor(prefix)]));
  });

  it('keeps docs/API.md identical to the shared contract (where the shared folder is present)', function () {
    const shared = sharedContractFile();
    // A public clone has no shared folder; our CI always does, and checks the copy there.
    if (!shared) this.skip();
    expect(fs.readFileSync(repoContractFile, 'utf8'), 'docs/API.md differs from ../shared/API.md: copy it over').to.equal(
      fs.readFileSync(shared, 'utf8'),
    );
  });

  it('finds the routes of the contract', () => {
    expect(contract.length).to.be.greaterThan(40);
    expect(contract).to.deep.include({ method: 'post', path: '/orders' });
    expect(contract).to.deep.include({ method: 'get', path: '/payments' });
  });

  it('documents every route of API.md in its service', () => {
    const missing = contract.filter((route) => {
      const prefix = route.path.split('/')[1] ?? '';
      const document = documents.get(prefix);
      const openApiPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      return !document?.paths?.[openApiPath]?.[route.method];
    });
    expect(missing.map((route) => `${route.method.toUpperCase()} ${route.path}`)).to.deep.equal([]);
    expect(rpc.calls, 'building the routes and documents sent commands').to.deep.equal([]);
  });

  it('marks every protected route with bearer security, and leaves public ones open', () => {
    const wrong: string[] = [];
    for (const route of contract) {
      const document = documents.get(route.path.split('/')[1] ?? '');
      const operation = document?.paths?.[route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[route.method] as
        { security?: Record<string, string[]>[] } | undefined;
      if (!operation) continue;
      const bearer = (operation.security ?? []).some((requirement) => 'bearerAuth' in requirement);
      const isPublic = publicRoutes.has(`${route.method} ${route.path}`);
      if (bearer === isPublic)
        wrong.push(`${route.method.toUpperCase()} ${route.path} ${isPublic ? 'should be public' : 'lacks bearer security'}`);
    }
    expect(wrong).to.deep.equal([]);
    for (const document of documents.values()) {
      expect(document.components?.securitySchemes?.bearerAuth).to.deep.include({ type: 'http', scheme: 'bearer' });
    }
  });
});
