/**
 * The one table of Mart's services: names, default ports and path prefixes (as in shared/API.md).
 * The local stack, the test runner and anything else that needs "every service" read it here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServiceDefinition {
  readonly name: string;
  readonly port: number;
  /** Public path prefix; db-service has none (it serves only health, ready and metrics). */
  readonly pathPrefix: string | null;
}

/** db-service first: every other service calls it over Kafka. */
export const SERVICES = [
  { name: 'db-service', port: 8011, pathPrefix: null },
  { name: 'auth-service', port: 8001, pathPrefix: '/auth' },
  { name: 'user-service', port: 8002, pathPrefix: '/users' },
  { name: 'customer-service', port: 8003, pathPrefix: '/customers' },
  { name: 'brand-service', port: 8004, pathPrefix: '/brands' },
  { name: 'category-service', port: 8005, pathPrefix: '/categories' },
  { name: 'product-service', port: 8006, pathPrefix: '/products' },
  { name: 'inventory-service', port: 8007, pathPrefix: '/inventory' },
  { name: 'order-service', port: 8008, pathPrefix: '/orders' },
  { name: 'payment-service', port: 8009, pathPrefix: '/payments' },
  { name: 'notification-service', port: 8010, pathPrefix: '/notifications' },
] as const satisfies readonly ServiceDefinition[];

export type ServiceName = (typeof SERVICES)[number]['name'];

/** The test stack listens at the dev port plus this, so tests can run beside a dev stack. */
export const TEST_PORT_OFFSET = 10_000;

export const REPO_ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

export function serviceDefinition(name: ServiceName): ServiceDefinition {
  const definition = SERVICES.find((service) => service.name === name);
  if (!definition) throw new Error(`Unknown service "${name}"`);
  return definition;
}

/** Every service's port moved by `offset`: how a stack of its own (tests, fault suite, benches) keeps clear of the others. */
export function portsAt(offset: number): Record<ServiceName, number> {
  return Object.fromEntries(SERVICES.map(({ name, port }) => [name, port + offset])) as Record<ServiceName, number>;
}

/** What tools/build.ts bundles, and what `npm run dev` watches. */
export function serviceSource(name: ServiceName, rootDir = REPO_ROOT): string {
  return path.join(rootDir, name, 'src', 'main.ts');
}

/** What runs: the bundle tools/build.ts writes, plain JavaScript for `node`. */
export function serviceEntry(name: ServiceName, rootDir = REPO_ROOT): string {
  return path.join(rootDir, name, 'dist', 'main.js');
}

/** The services that have a `src/main.ts`: what the build bundles and a stack starts. */
export function servicesWithSource(rootDir = REPO_ROOT): ServiceName[] {
  return SERVICES.map((service) => service.name).filter((name) => fs.existsSync(serviceSource(name, rootDir)));
}

/** `brand-service` → `MART_URL_BRAND_SERVICE`, the variable e2e tests read a base URL from. */
export function serviceUrlVariable(name: ServiceName): string {
  return `MART_URL_${name.toUpperCase().replaceAll('-', '_')}`;
}
