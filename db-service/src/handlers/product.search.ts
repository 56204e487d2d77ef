import { orderedPriceRange, productSearchFields } from '@mart/common/domain/product';
import { ValidationError, type ErrorDetail } from '@mart/common/errors';
import { mart } from '@mart/proto';
import { Prisma } from '../database.ts';
import type { Product } from '../generated/prisma/client.ts';
import { checkedFields, pageWindow } from '../handler.ts';

/** A product row with its orderable units, as both Prisma and the search SQL produce it. */
export type ProductRow = Product & { available: number };

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

/** Refuses the filters the HTTP edge refuses (a search box's words, the price range). */
export function checkSearch(input: mart.product.ListProducts): void {
  const details: ErrorDetail[] = [];
  checkedFields(productSearchFields, input, details);
  if (!orderedPriceRange.check(input))
    details.push({ path: orderedPriceRange.issue.path.join('.'), message: orderedPriceRange.issue.message });
  if (details.length > 0) throw new ValidationError(details);
}

export const productColumns = Prisma.sql`
  p.id, p.sku, p.name, p.description, p.price_cents AS "priceCents", p.currency, p.brand_id AS "brandId",
  p.category_id AS "categoryId", p.active, p.created_at AS "createdAt", p.updated_at AS "updatedAt",
  GREATEST(COALESCE(i.on_hand - i.reserved, 0), 0) AS available`;
/** The join productColumns read from: each product with its stock, if it has any. */
export const productsWithStock = Prisma.sql`products p LEFT JOIN inventory_items i ON i.product_id = p.id`;

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
