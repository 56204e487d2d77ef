import { stockFields } from '@mart/common/domain/inventory';
import { defaultCurrency } from '@mart/common/domain/money';
import { productFields } from '@mart/common/domain/product';
import { ValidationError, type ErrorDetail } from '@mart/common/errors';
import { uuidPattern } from '@mart/common/ids';
import type { mart } from '@mart/proto';
import type { Db } from '../database.ts';
import type { Product } from '../generated/prisma/client.ts';
import { checkedFields } from '../handler.ts';
import type { ProductRow } from './product.search.ts';

const maxImportBatch = 1000; // keeps one import's transaction well inside the executor's timeout

/** Checks a whole batch (no HTTP edge validates it first); details name `products.<index>.<field>`. */
async function checkedImport(db: Db, input: mart.product.ImportProducts) {
  const details: ErrorDetail[] = [];
  if (input.products.length > maxImportBatch) details.push({ path: 'products', message: `at most ${maxImportBatch} per import` });
  const rows = input.products.map((item, index) => {
    const product = item.product ?? {};
    const prefix = `products.${index}.`;
    const fields = checkedFields(
      productFields,
      {
        sku: product.sku ?? '',
        name: product.name ?? '',
        description: product.description ?? '',
        priceCents: product.priceCents ?? 0,
        currency: product.currency || defaultCurrency,
      },
      details,
      prefix,
    );
    const refs = { id: product.id ?? '', brandId: product.brandId ?? '', categoryId: product.categoryId ?? '' };
    for (const [path, id] of Object.entries(refs))
      if (!uuidPattern.test(id)) details.push({ path: prefix + path, message: 'must be a UUID' });
    const { onHand = 0 } = checkedFields(stockFields, { onHand: item.onHand ?? 0 }, details, prefix);
    return {
      ...refs,
      sku: fields.sku ?? '',
      name: fields.name ?? '',
      description: fields.description ?? '',
      priceCents: fields.priceCents ?? 0,
      currency: fields.currency ?? defaultCurrency,
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

/**
 * `product.import`: checks the whole batch, then inserts its products with their stock. Existing
 * SKUs (and ids) are skipped, so re-running an import only adds what is missing. The new products
 * come back with their initial stock as their available units.
 */
export async function importProducts(db: Db, input: mart.product.ImportProducts): Promise<{ created: ProductRow[]; skipped: number }> {
  const rows = await checkedImport(db, input);
  const column = <K extends keyof (typeof rows)[number]>(key: K) => rows.map((row) => row[key]);
  // One INSERT over arrays: Prisma's createMany takes ~50 times longer for a batch of 500.
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
  return {
    created: created.map((row) => ({ ...row, available: onHandById.get(row.id) ?? 0 })),
    skipped: rows.length - created.length,
  };
}
