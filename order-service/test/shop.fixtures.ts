import { randomUUID } from 'node:crypto';
import { RpcClient, createKafka } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { api, mintToken, requiredEnv, stackKeys } from '@mart/common/testing';

// Test data for the order and inventory suites, made with db-service's own commands over Kafka,
// so these suites need no catalog or customer service running: a brand and a category per run,
// products with stock, and registered customers with tokens.

const logger = createLogger('test', 'silent');
// customer.register stores a bcrypt hash; these tests never log in, so any well-formed one will do.
const placeholderHash = `$2b$10$${'a'.repeat(53)}`;

export function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  return api(base).call(method, path, options);
}

export interface TestProduct {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
}

export interface TestCustomer {
  id: string;
  email: string;
  token: string;
}

export class Shop {
  readonly run = randomUUID().slice(0, 8);
  readonly keys = stackKeys();
  readonly staffId = randomUUID();
  readonly staff = mintToken(this.keys.privateKey, { kind: 'user', role: 'staff', sub: this.staffId });
  readonly rpc: RpcClient;
  private brandId = '';
  private categoryId = '';
  private seq = 0;

  constructor(name: string) {
    this.rpc = new RpcClient({
      kafka: createKafka({ clientId: `${name}-${this.run}`, brokers: requiredEnv('KAFKA_BROKERS').split(','), logger }),
      service: name,
      instanceId: this.run,
      timeoutMs: 10_000,
      logger,
    });
  }

  async open(): Promise<void> {
    await this.rpc.start();
    this.brandId = (await this.rpc.call('brand.create', { id: randomUUID(), name: `Orders brand ${this.run}` })).id;
    this.categoryId = (await this.rpc.call('category.create', { id: randomUUID(), name: `Orders category ${this.run}` })).id;
  }

  async close(): Promise<void> {
    await this.rpc.stop();
  }

  /** An active product with `stock` units on hand (no inventory record at all when stock is null). */
  async product(options: { priceCents?: number; currency?: string; stock?: number | null; active?: boolean } = {}): Promise<TestProduct> {
    this.seq += 1;
    const product = await this.rpc.call('product.create', {
      id: randomUUID(),
      sku: `ORD-${this.run}-${this.seq}`,
      name: `Order test item ${this.seq} ${this.run}`,
      description: '',
      priceCents: options.priceCents ?? 1250,
      currency: options.currency ?? 'USD',
      brandId: this.brandId,
      categoryId: this.categoryId,
      active: options.active ?? true,
    });
    const stock = options.stock === undefined ? 100 : options.stock;
    if (stock !== null) await this.rpc.call('inventory.set', { productId: product.id, onHand: stock, actorId: this.staffId });
    return { id: product.id, sku: product.sku, name: product.name, priceCents: product.priceCents, currency: product.currency };
  }

  async customer(): Promise<TestCustomer> {
    this.seq += 1;
    const id = randomUUID();
    const email = `buyer-${this.run}-${this.seq}@test.mart`;
    await this.rpc.call('customer.register', { id, email, name: `Buyer ${this.seq}`, passwordHash: placeholderHash });
    return { id, email, token: mintToken(this.keys.privateKey, { kind: 'customer', sub: id, email }) };
  }
}

export const address = { line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' };
