import { ConflictError, NotFoundError, ValidationError, type ErrorDetail } from '@mart/common/errors';
import { uuidPattern } from '@mart/common/ids';
import { mart } from '@mart/proto';
import { Prisma } from '../database.ts';
import type { Db } from '../database.ts';
import type { InventoryItem, Product } from '../generated/prisma/client.ts';
import { isRecordNotFound, uniqueViolation, rethrowNotFound } from '../database.errors.ts';
import { availableUnits, pageWindow, type Handlers } from '../handler.ts';

/** A product row with its orderable units, as both Prisma and the search SQL produce it. */
type ProductRow = Product & { available: number };

const maxInteger = 2_147_483_647; // the limit of an INTEGER column (price, units)

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

// ---------- invariants of a product's fields (the edge validates them too) ----------

/** The scalar fields of a create or an update; absent (null) fields stay as they are. */
interface ProductFields {
  sku?: string | null;
  name?: string | null;
  description?: string | null;
  priceCents?: number | null;
  currency?: string | null;
}

function checkedFields(input: ProductFields, details: ErrorDetail[]) {
  const fields: { sku?: string; name?: string; description?: string; priceCents?: number; currency?: string } = {};
  const fail = (path: string, message: string) => details.push({ path, message });
  if (input.sku != null) {
    fields.sku = input.sku.trim();
    if (fields.sku.length === 0 || fields.sku.length > 64) fail('sku', 'must be 1 to 64 characters');
  }
  if (input.name != null) {
    fields.name = input.name.trim();
    if (fields.name.length === 0 || fields.name.length > 200) fail('name', 'must be 1 to 200 characters');
  }
  if (input.description != null) {
    fields.description = input.description;
    if (fields.description.length > 5000) fail('description', 'must be at most 5000 characters');
  }
  if (input.priceCents != null) {
    fields.priceCents = input.priceCents;
    if (!Number.isInteger(fields.priceCents) || fields.priceCents < 0 || fields.priceCents > maxInteger) {
      fail('priceCents', `must be an integer from 0 to ${maxInteger}`);
    }
  }
  if (input.currency != null) {
    fields.currency = input.currency;
    if (!/^[A-Z]{3}$/.test(fields.currency)) fail('currency', 'must be an ISO 4217 code such as USD');
  }
  return fields;
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

// ---------- search ----------

const Sort = mart.product.ProductSort;

function orderBy(sort: mart.product.ProductSort): Prisma.Sql {
  // Every order ends with the id, so pages of equal keys neither overlap nor skip rows.
  switch (sort) {
    case Sort.PRODUCT_SORT_PRICE:
      return Prisma.sql`p.price_cents ASC, p.id ASC`;
    case Sort.PRODUCT_SORT_PRICE_DESC:
      return Prisma.sql`p.price_cents DESC, p.id ASC`;
    case Sort.PRODUCT_SORT_CREATED_DESC:
      return Prisma.sql`p.created_at DESC, p.id DESC`;
    case Sort.PRODUCT_SORT_NAME:
    case Sort.PRODUCT_SORT_UNSPECIFIED:
    default:
      return Prisma.sql`p.name ASC, p.id ASC`;
  }
}

/** Escapes LIKE's wildcards so a search for "50%" means those characters. */
function containsPattern(word: string): string {
  return `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function searchConditions(input: mart.product.ListProducts): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (!input.includeInactive) conditions.push(Prisma.sql`p.active`);
  // Every word must occur in the name or the description; the trigram GIN indexes serve ILIKE.
  for (const word of new Set((input.q ?? '').toLowerCase().split(/\s+/).filter(Boolean))) {
    const pattern = containsPattern(word);
    conditions.push(Prisma.sql`(p.name ILIKE ${pattern} OR p.description ILIKE ${pattern})`);
  }
  if (input.brandId) conditions.push(Prisma.sql`p.brand_id = ${input.brandId}::uuid`);
  if (input.categoryId) {
    conditions.push(Prisma.sql`p.category_id IN (
      WITH RECURSIVE subtree AS (
        SELECT id FROM categories WHERE id = ${input.categoryId}::uuid
        UNION
        SELECT c.id FROM categories c JOIN subtree s ON c.parent_id = s.id
      )
      SELECT id FROM subtree)`);
  }
  if (input.minPriceCents != null) conditions.push(Prisma.sql`p.price_cents >= ${input.minPriceCents}`);
  if (input.maxPriceCents != null) conditions.push(Prisma.sql`p.price_cents <= ${input.maxPriceCents}`);
  if (input.inStock) conditions.push(Prisma.sql`i.on_hand > i.reserved`);
  return conditions;
}

const productColumns = Prisma.sql`
  p.id, p.sku, p.name, p.description, p.price_cents AS "priceCents", p.currency, p.brand_id AS "brandId",
  p.category_id AS "categoryId", p.active, p.created_at AS "createdAt", p.updated_at AS "updatedAt",
  GREATEST(COALESCE(i.on_hand - i.reserved, 0), 0) AS available`;
/** The join productColumns read from: each product with its stock, if it has any. */
const productsWithStock = Prisma.sql`products p LEFT JOIN inventory_items i ON i.product_id = p.id`;

/**
 * The SQL of `product.list`: one page of matching products, and their total. Exported so the
 * catalog benchmark can EXPLAIN exactly what this handler runs.
 */
export function productSearchQuery(input: mart.product.ListProducts) {
  const window = pageWindow(input.page);
  const conditions = searchConditions(input);
  const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
  const from = Prisma.sql`FROM ${productsWithStock} ${where}`;
  return {
    window,
    page: Prisma.sql`SELECT ${productColumns} ${from} ORDER BY ${orderBy(input.sort)} LIMIT ${window.take} OFFSET ${window.skip}`,
    total: Prisma.sql`SELECT count(*)::int AS total ${from}`,
  };
}

// ---------- bulk import ----------

const maxImportBatch = 1000; // keeps one import's transaction well inside the executor's timeout

/** Checks a whole batch (no HTTP edge validates it first); details name `products.<index>.<field>`. */
async function checkedImport(db: Db, input: mart.product.ImportProducts) {
  const details: ErrorDetail[] = [];
  if (input.products.length > maxImportBatch) details.push({ path: 'products', message: `at most ${maxImportBatch} per import` });
  const rows = input.products.map((item, index) => {
    const product = item.product ?? {};
    const refs = { id: product.id ?? '', brandId: product.brandId ?? '', categoryId: product.categoryId ?? '' };
    const onHand = item.onHand ?? 0;
    const own: ErrorDetail[] = [];
    const fields = checkedFields(
      {
        ...product,
        sku: product.sku ?? '',
        name: product.name ?? '',
        priceCents: product.priceCents ?? 0,
        currency: product.currency || 'USD',
      },
      own,
    );
    for (const [path, id] of Object.entries(refs)) if (!uuidPattern.test(id)) own.push({ path, message: 'must be a UUID' });
    if (!Number.isInteger(onHand) || onHand < 0 || onHand > maxInteger) own.push({ path: 'onHand', message: 'must be 0 or more' });
    details.push(...own.map((detail) => ({ ...detail, path: `products.${index}.${detail.path}` })));
    return {
      ...refs,
      sku: fields.sku ?? '',
      name: fields.name ?? '',
      description: fields.description ?? '',
      priceCents: fields.priceCents ?? 0,
      currency: fields.currency ?? 'USD',
      active: product.active ?? false,
      onHand,
    };
  });
  if (details.length === 0) {
    const idsIn = (ids: string[]) => ({ where: { id: { in: [...new Set(ids)] } }, select: { id: true } });
    const brands = new Set((await db.brand.findMany(idsIn(rows.map((row) => row.brandId)))).map((row) => row.id));
    const categories = new Set((await db.category.findMany(idsIn(rows.map((row) => row.categoryId)))).map((row) => row.id));
    rows.forEach((row, index) => {
      if (!brands.has(row.brandId)) details.push({ path: `products.${index}.brandId`, message: 'no such brand' });
      if (!categories.has(row.categoryId)) details.push({ path: `products.${index}.categoryId`, message: 'no such category' });
    });
  }
  // A bad batch could name thousands of fields; the first ones are enough to fix the input.
  if (details.length > 0) throw new ValidationError(details.slice(0, 20), `${details.length} problem(s) in the import`);
  return rows;
}

// ---------- handlers ----------

export const productHandlers: Handlers = {
  'product.create': async (input, { db, emit }) => {
    const details: ErrorDetail[] = [];
    const fields = checkedFields({ ...input, currency: input.currency || 'USD' }, details);
    if (!input.brandId) details.push({ path: 'brandId', message: 'is required' });
    if (!input.categoryId) details.push({ path: 'categoryId', message: 'is required' });
    await checkReferences(db, input, details);
    if (details.length > 0) throw new ValidationError(details);
    const sku = fields.sku ?? '';
    const row = await db.product
      .create({
        data: {
          id: input.id,
          sku,
          name: fields.name ?? '',
          description: fields.description ?? '',
          priceCents: fields.priceCents ?? 0,
          currency: fields.currency ?? 'USD',
          brandId: input.brandId,
          categoryId: input.categoryId,
          active: input.active,
        },
        include: { inventory: true },
      })
      .catch((error: unknown) => duplicateSku(error, sku));
    const product = toProduct(withAvailability(row));
    emit('product.created', { product });
    return product;
  },

  'product.update': async (input, { db, emit }) => {
    const details: ErrorDetail[] = [];
    const fields = checkedFields(input, details);
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
    const rows = await checkedImport(db, input);
    const column = <K extends keyof (typeof rows)[number]>(key: K) => rows.map((row) => row[key]);
    // One INSERT over arrays: Prisma's createMany takes ~50 times longer for a batch of 500.
    // Existing SKUs (and ids) are skipped, so re-running an import only adds what is missing.
    const created = await db.$queryRaw<Product[]>`
      INSERT INTO products (id, sku, name, description, price_cents, currency, brand_id, category_id, active, updated_at)
      SELECT *, now() FROM unnest(
        ${column('id')}::uuid[], ${column('sku')}::text[], ${column('name')}::text[], ${column('description')}::text[],
        ${column('priceCents')}::int[], ${column('currency')}::text[], ${column('brandId')}::uuid[], ${column('categoryId')}::uuid[],
        ${column('active')}::boolean[])
      ON CONFLICT DO NOTHING
      RETURNING id, sku, name, description, price_cents AS "priceCents", currency, brand_id AS "brandId",
        category_id AS "categoryId", active, created_at AS "createdAt", updated_at AS "updatedAt"`;
    const onHandById = new Map(rows.map((row) => [row.id, row.onHand]));
    const stocked = created.filter((row) => (onHandById.get(row.id) ?? 0) > 0);
    const stockedIds = stocked.map((row) => row.id);
    const stockedUnits = stocked.map((row) => onHandById.get(row.id) ?? 0);
    if (stocked.length > 0) {
      await db.$executeRaw`
        INSERT INTO inventory_items (product_id, on_hand, reserved, updated_at)
        SELECT *, 0, now() FROM unnest(${stockedIds}::uuid[], ${stockedUnits}::int[])`;
      await db.$executeRaw`
        INSERT INTO inventory_adjustments (id, product_id, delta, reason, on_hand_after, created_at)
        SELECT gen_random_uuid(), product_id, units, 'import', units, now() FROM unnest(${stockedIds}::uuid[], ${stockedUnits}::int[]) AS s(product_id, units)`;
    }
    // Bulk inserts land in the trigram indexes' pending lists, which every search scans linearly (and
    // the planner then prefers a sequential scan) until autovacuum merges them: merge them now.
    await db.$queryRaw`SELECT gin_clean_pending_list('products_name_trgm_idx'::regclass), gin_clean_pending_list('products_description_trgm_idx'::regclass)`;
    // product.created carries the initial stock (available); no separate stock-changed event per product.
    for (const row of created) emit('product.created', { product: toProduct({ ...row, available: onHandById.get(row.id) ?? 0 }) });
    return { created: created.length, skipped: rows.length - created.length };
  },

  'product.list': async (input, { db }) => {
    const query = productSearchQuery(input);
    const [rows, [count]] = await Promise.all([db.$queryRaw<ProductRow[]>(query.page), db.$queryRaw<{ total: number }[]>(query.total)]);
    return {
      items: rows.map(toProduct),
      page: { page: query.window.page, pageSize: query.window.pageSize, total: count?.total ?? 0 },
    };
  },
};
