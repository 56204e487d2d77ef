import { expect } from 'chai';
import { TokenVerifier } from '@mart/common/http';
import { fakeRpc, generateTestKeys } from '@mart/common/testing';

import { seedCheckout } from '../checkout.seed.ts';

describe('seedCheckout', () => {
  const keys = generateTestKeys();
  const rpc = () =>
    fakeRpc({
      'brand.create': (request) => ({ id: request.id, name: request.name }),
      'category.create': (request) => ({ id: request.id, name: request.name }),
      'product.create': (request) => ({ id: request.id, sku: request.sku, brandId: request.brandId, categoryId: request.categoryId }),
      'inventory.set': (request) => ({ productId: request.productId, onHand: request.onHand }),
      'customer.register': (request) => ({ id: request.id, email: request.email }),
    });

  it('gives each product the stock asked for, in the seed brand and category', async () => {
    const fake = rpc();
    const { products } = await seedCheckout(fake, { label: 'Chaos', stocks: [100, 7], customers: 0, privateKey: keys.privateKey });

    const [brand] = fake.sent('brand.create');
    const [category] = fake.sent('category.create');
    expect(fake.sent('product.create').map(({ sku, brandId, categoryId }) => ({ sku, brandId, categoryId }))).to.deep.equal([
      { sku: 'CHAOS-0', brandId: brand!.id, categoryId: category!.id },
      { sku: 'CHAOS-1', brandId: brand!.id, categoryId: category!.id },
    ]);
    expect(fake.sent('inventory.set').map(({ productId, onHand }) => ({ productId, onHand }))).to.deep.equal(
      products.map((product) => ({ productId: product.id, onHand: product.initialStock })),
    );
    expect(products.map((product) => product.initialStock)).to.deep.equal([100, 7]);
  });

  it('registers each customer under an email of its own, with a customer token that outlives a long run', async () => {
    const fake = rpc();
    const { customers } = await seedCheckout(fake, { label: 'Bench', stocks: [], customers: 3, privateKey: keys.privateKey });

    expect(new Set(customers.map((customer) => customer.email)).size).to.equal(3);
    expect(fake.sent('customer.register').map((request) => request.id)).to.have.members(customers.map((customer) => customer.id));
    // The services' own verifier: the tokens get through every customer route.
    const verifier = new TokenVerifier({ publicKey: keys.publicKey, issuer: 'mart-auth', audience: 'mart' });
    for (const customer of customers) {
      expect(verifier.verify(customer.token)).to.deep.equal({ sub: customer.id, kind: 'customer', email: customer.email });
      const claims = JSON.parse(Buffer.from(customer.token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number };
      expect(claims.exp - claims.iat, 'token lifetime in seconds').to.be.at.least(3600);
    }
  });
});
