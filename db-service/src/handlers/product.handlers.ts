import { defaultCurrency } from '@mart/common/domain/money';
import { productFields } from '@mart/common/domain/product';
import { ConflictError, NotFoundError, ValidationError, type ErrorDetail } from '@mart/common/errors';
import { uuidPattern } from '@mart/common/ids';
import type { mart } from '@mart/proto';
import { Prisma } from '../database.ts';
import type { Db } from '../database.ts';
import type { InventoryItem, Product } from '../generated/prisma/client.ts';
import { isRecordNotFound, uniqueViolation, rethrowNotFound } from '../database.errors.ts';
import { availableUnits, checkedFields, type Handlers } from '../handler.ts';
import { importProducts } from './product.import.ts';
import { checkSearch, productColumns, productSearchQuery, productsWithStock, type ProductRow } from './product.search.ts';

function withAvailability(row: Product & { inventory: InventoryItem | null }): ProductRow {
  const { inventory, ...product } = row;
  return { ...product, available: inventory ? availableUnits(inventory) : 0 };
}

function toProduct(row: ProductRow): mart.product.Product.$Properties {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    priceCents: row.priceCents,
    currency: row.currency,
    brandId: row.brandId,
    categoryId: row.categoryId,
    active: row.active,
    available: row.available,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Unknown brand or category is the caller's mistake (400 naming the field), not a conflict. */
async function checkReferences(db: Db, input: { brandId?: string | null; categoryId?: string | null }, details: ErrorDetail[]) {
  if (input.brandId && !(await db.brand.findUnique({ where: { id: input.brandId }, select: { id: true } }))) {
    details.push({ path: 'brandId', message: 'no such brand' });
  }
  if (input.categoryId && !(await db.category.findUnique({ where: { id: input.categoryId }, select: { id: true } }))) {
    details.push({ path: 'categoryId', message: 'no such category' });
  }
}

function duplicateSku(error: unknown, sku: string): never {
  if (uniqueViolation(error)?.includes('sku')) {
    throw new ConflictError(`A product with SKU "${sku}" already exists`, [{ path: 'sku', message: 'already exists' }]);
  }
  throw error;
}

export const productHandlers: Handlers = {
  'product.create': async (input, { db, emit }) => {
    const details: ErrorDetail[] = [];
    const { sku, name, description, priceCents } = input;
    const fields = checkedFields(
      productFields,
      { sku, name, description, priceCents, currency: input.currency || defaultCurrency },
      details,
    );
    if (!input.brandId) details.push({ path: 'brandId', message: 'is required' });
    if (!input.categoryId) details.push({ path: 'categoryId', message: 'is required' });
    await checkReferences(db, input, details);
    if (details.length > 0) throw new ValidationError(details);
    const row = await db.product
      .create({
        data: {
          id: input.id,
          sku: fields.sku ?? '',
          name: fields.name ?? '',
          description: fields.description ?? '',
          priceCents: fields.priceCents ?? 0,
          currency: fields.currency ?? defaultCurrency,
          brandId: input.brandId,
          categoryId: input.categoryId,
          active: input.active,
        },
        include: { inventory: true },
      })
      .catch((error: unknown) => duplicateSku(error, fields.sku ?? ''));
    const product = toProduct(withAvailability(row));
    emit('product.created', { product });
    return product;
  },

  'product.update': async (input, { db, emit }) => {
    const details: ErrorDetail[] = [];
    const fields = checkedFields(productFields, input, details);
    await checkReferences(db, input, details);
    if (details.length > 0) throw new ValidationError(details);
    const data: Prisma.ProductUncheckedUpdateInput = { ...fields };
    if (input.brandId) data.brandId = input.brandId;
    if (input.categoryId) data.categoryId = input.categoryId;
    if (input.active != null) data.active = input.active;
    const row = await db.product.update({ where: { id: input.id }, data, include: { inventory: true } }).catch((error: unknown) => {
      if (isRecordNotFound(error)) throw new NotFoundError(`Product ${input.id} not found`);
      return duplicateSku(error, fields.sku ?? '');
    });
    const product = toProduct(withAvailability(row));
    emit('product.updated', { product });
    return product;
  },

  'product.delete': async (input, { db, emit }) => {
    const ordered = await db.orderItem.count({ where: { productId: input.id } });
    if (ordered > 0) throw new ConflictError(`Product ${input.id} is in ${ordered} order(s); deactivate it instead`);
    // Its inventory record goes with it (ON DELETE CASCADE).
    await db.product.delete({ where: { id: input.id } }).catch(rethrowNotFound(`Product ${input.id} not found`));
    emit('product.deleted', { id: input.id });
    return {};
  },

  'product.get': async (input, { read }) => {
    // The hottest read, in plain SQL and past Prisma: its work per call was most of db-service's CPU per read.
    const [row] = uuidPattern.test(input.id)
      ? await read<ProductRow>(Prisma.sql`SELECT ${productColumns} FROM ${productsWithStock} WHERE p.id = ${input.id}::uuid`)
      : [];
    // An inactive product does not exist for callers who may not see it.
    if (!row || (!row.active && !input.includeInactive)) throw new NotFoundError(`Product ${input.id} not found`);
    return toProduct(row);
  },

  'product.import': async (input, { db, emit }) => {
    const { created, skipped } = await importProducts(db, input);
    // product.created carries the initial stock (available); no separate stock-changed event per product.
    for (const row of created) emit('product.created', { product: toProduct(row) });
    return { created: created.length, skipped };
  },

  'product.list': async (input, { db }) => {
    checkSearch(input);
    const query = productSearchQuery(input);
    const [rows, [count]] = await Promise.all([db.$queryRaw<ProductRow[]>(query.page), db.$queryRaw<{ total: number }[]>(query.total)]);
    return {
      items: rows.map(toProduct),
      page: { page: query.window.page, pageSize: query.window.pageSize, total: count?.total ?? 0 },
    };
  },
};
