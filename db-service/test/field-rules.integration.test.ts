import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { DecodedCommand, EncodedReply } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { requiredEnv } from '@mart/common/testing';
import { mart } from '@mart/proto';
import { createCommandExecutor } from '../src/command.executor.ts';
import { createDatabase } from '../src/database.ts';
import { allHandlers } from '../src/handlers/index.ts';
import { applyMigrations } from '../src/migrate.ts';
import { command, testHandlerSettings } from './handler.helpers.ts';

function errorOf(reply: EncodedReply) {
  expect(reply.status).to.equal('error');
  return mart.common.Error.decode(reply.body);
}

/**
 * Product fields sent straight to db-service, with no HTTP edge in front: it refuses them by the
 * edge's rules (@mart/common/domain/product), not by looser ones of its own. Each bad value here
 * passed db-service's old checks (length only for a SKU, three capitals for a currency).
 */
describe('db-service: the field rules of product.create and product.import (real PostgreSQL)', () => {
  const database = createDatabase(requiredEnv('DATABASE_URL'), 2);
  const { prisma } = database;
  const execute = createCommandExecutor({
    database,
    handlers: allHandlers('it'),
    settings: testHandlerSettings,
    logger: createLogger('test', 'silent'),
    onEventsWritten: () => undefined,
    ordersDueAt: () => undefined,
  });
  const run = async (one: DecodedCommand) => (await execute([one]))[0]!;

  const brandId = randomUUID();
  const categoryId = randomUUID();
  const tag = randomUUID().slice(0, 8);
  const validProduct = () => ({
    id: randomUUID(),
    sku: `FR-${randomUUID()}`,
    name: 'Rocket skates',
    description: '',
    priceCents: 1999,
    currency: 'EUR',
    brandId,
    categoryId,
    active: true,
  });

  const cases = [
    { field: 'sku', value: '-rocket', message: 'letters, digits and . _ / - only' },
    { field: 'currency', value: 'ABC', message: 'expected an upper-case ISO 4217 code such as USD' },
    { field: 'name', value: '   ', message: undefined },
  ] as const;

  /** Nothing of these products reached the database: no row, no stock, no event. */
  async function nothingWritten(ids: string[]) {
    expect(await prisma.product.count({ where: { id: { in: ids } } })).to.equal(0, 'no product row');
    expect(await prisma.inventoryItem.count({ where: { productId: { in: ids } } })).to.equal(0, 'no stock row');
    expect(await prisma.outboxEvent.count({ where: { key: { in: ids } } })).to.equal(0, 'no event');
  }

  before(async () => {
    await applyMigrations(requiredEnv('DATABASE_URL'));
    expect((await run(command('brand.create', { id: brandId, name: `Field rules ${tag}` }))).status).to.equal('ok');
    expect((await run(command('category.create', { id: categoryId, name: `Field rules ${tag}` }))).status).to.equal('ok');
  });

  after(async () => {
    await prisma.$disconnect();
  });

  it('writes the valid products the cases below break one field of, so nothingWritten can fail', async () => {
    const created = validProduct();
    expect((await run(command('product.create', created))).status).to.equal('ok');
    const imported = validProduct();
    expect((await run(command('product.import', { products: [{ product: imported, onHand: 5 }] }))).status).to.equal('ok');
    const ids = [created.id, imported.id];
    expect(await prisma.product.count({ where: { id: { in: ids } } })).to.equal(2);
    expect(await prisma.inventoryItem.count({ where: { productId: imported.id } })).to.equal(1);
    expect(await prisma.outboxEvent.count({ where: { key: { in: ids } } })).to.be.at.least(2);
  });

  for (const { field, value, message } of cases) {
    it(`refuses product.create with a bad ${field} (${JSON.stringify(value)}), naming it, and writes nothing`, async () => {
      const product = { ...validProduct(), [field]: value };
      const error = errorOf(await run(command('product.create', product)));
      expect(error.code).to.equal('validation_failed');
      expect(error.details.map((detail) => detail.path)).to.deep.equal([field]);
      if (message) expect(error.details[0]!.message).to.equal(message);
      await nothingWritten([product.id]);
    });

    it(`refuses a whole product.import when one product has a bad ${field}, naming products.<index>.${field}`, async () => {
      const good = validProduct();
      const bad = { ...validProduct(), [field]: value };
      const request = {
        products: [
          { product: good, onHand: 5 },
          { product: bad, onHand: 5 },
        ],
      };
      const error = errorOf(await run(command('product.import', request)));
      expect(error.code).to.equal('validation_failed');
      expect(error.details.map((detail) => detail.path)).to.deep.equal([`products.1.${field}`]);
      if (message) expect(error.details[0]!.message).to.equal(message);
      await nothingWritten([good.id, bad.id]);
    });
  }
});
