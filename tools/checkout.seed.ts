/**
 * What a checkout load needs, made through db-service's own commands so every invariant applies:
 * a brand, a category, products with the stock asked for, and registered customers with access
 * tokens. The fault suite and the benches drive their customers with it.
 */
import { randomUUID } from 'node:crypto';

import type { RpcCaller } from '@mart/common/kafka';
import { mintToken } from '@mart/common/testing';

export interface CheckoutSeedOptions {
  /** Names the SKUs (`<LABEL>-<n>`), products and customers (`<label>-<n>@<label>.mart`) of this seed. */
  label: string;
  /** Units on hand of each product, one product per entry. */
  stocks: readonly number[];
  customers: number;
  /** Signs the customers' tokens (the stack's JWT private key). */
  privateKey: string;
}

export interface SeededProduct {
  id: string;
  initialStock: number;
}

export interface SeededCustomer {
  id: string;
  email: string;
  token: string;
}

/** customer.register stores a bcrypt hash; these customers get tokens and never log in. */
const UNUSED_PASSWORD_HASH = `$2b$10$${'a'.repeat(53)}`;
/** Longer than any run: a bench reaches its checkout rows long after it seeded. */
const TOKEN_LIFETIME = '2h';

export async function seedCheckout(
  rpc: RpcCaller,
  options: CheckoutSeedOptions,
): Promise<{ products: SeededProduct[]; customers: SeededCustomer[] }> {
  const { label } = options;
  const brand = await rpc.call('brand.create', { id: randomUUID(), name: `${label} brand` });
  const category = await rpc.call('category.create', { id: randomUUID(), name: `${label} category` });
  const products = await Promise.all(
    options.stocks.map(async (initialStock, n) => {
      const product = await rpc.call('product.create', {
        id: randomUUID(),
        sku: `${label.toUpperCase()}-${n}`,
        name: `${label} item ${n}`,
        description: '',
        priceCents: 1000 + n,
        currency: 'USD',
        brandId: brand.id,
        categoryId: category.id,
        active: true,
      });
      await rpc.call('inventory.set', { productId: product.id, onHand: initialStock, actorId: '' });
      return { id: product.id, initialStock };
    }),
  );
  const customers = await Promise.all(
    Array.from({ length: options.customers }, async (_, n) => {
      const id = randomUUID();
      const email = `${label.toLowerCase()}-${n}@${label.toLowerCase()}.mart`;
      await rpc.call('customer.register', { id, email, name: `${label} ${n}`, passwordHash: UNUSED_PASSWORD_HASH });
      const token = mintToken(options.privateKey, { kind: 'customer', sub: id, email }, { expiresIn: TOKEN_LIFETIME });
      return { id, email, token };
    }),
  );
  return { products, customers };
}
