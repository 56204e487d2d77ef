import { defaultCurrency } from '@mart/common/domain/money';
import { orderedPriceRange, productFields, productSearchFields } from '@mart/common/domain/product';
import { idParams, pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';

export const productSchema = z
  .object({
    id: uuidSchema,
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    priceCents: z.number().int().openapi({ description: 'Price in minor units of currency', example: 1999 }),
    currency: z.string().openapi({ example: 'USD' }),
    brandId: uuidSchema,
    categoryId: uuidSchema,
    active: z.boolean().openapi({ description: 'Inactive products are visible to staff only' }),
    available: z.number().int().openapi({ description: 'Units that can be ordered now: on hand minus reserved (0 without stock)' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Product');

const sku = productFields.sku.openapi({ description: 'Unique', example: 'ACME-ROCKET-01' });
const { name, description, priceCents, currency } = productFields;
const brandId = uuidSchema.openapi({ description: 'An existing brand; unknown: 400 naming brandId' });
const categoryId = uuidSchema.openapi({ description: 'An existing category; unknown: 400 naming categoryId' });

export const createProductBody = z
  .object({
    sku,
    name,
    description: description.optional(),
    priceCents,
    currency: currency.default(defaultCurrency),
    brandId,
    categoryId,
    active: z.boolean().default(true),
  })
  .strict()
  .openapi('CreateProduct');

export const updateProductBody = z
  .object({
    sku: sku.optional(),
    name: name.optional(),
    description: description.optional(),
    priceCents: priceCents.optional(),
    currency: currency.optional(),
    brandId: brandId.optional(),
    categoryId: categoryId.optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'at least one field is required' })
  .openapi('UpdateProduct');

export const productSorts = ['name', 'price', '-price', '-createdAt'] as const;

export const listProductsQuery = pageQuery
  .extend({
    q: productSearchFields.q.optional().openapi({
      description: 'Words that must each occur in the name or the description (case-insensitive, also inside longer words)',
    }),
    brandId: uuidSchema.optional(),
    categoryId: uuidSchema.optional().openapi({ description: 'This category and all its sub-categories' }),
    // A query string is text: the amount rule applies to the number it holds.
    minPriceCents: z.preprocess(Number, productSearchFields.minPriceCents).optional(),
    maxPriceCents: z.preprocess(Number, productSearchFields.maxPriceCents).optional(),
    inStock: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional()
      .openapi({ description: 'true: only products with available > 0' }),
    sort: z.enum(productSorts).default('name').openapi({ description: 'Ties are broken by id, so pages never overlap' }),
  })
  .refine(orderedPriceRange.check, orderedPriceRange.issue);

export const productPageSchema = pageOf(productSchema, 'ProductPage');
export const productIdParams = idParams;

export type ProductDto = z.infer<typeof productSchema>;
export type CreateProductBody = z.infer<typeof createProductBody>;
export type UpdateProductBody = z.infer<typeof updateProductBody>;
export type ListProductsQuery = z.infer<typeof listProductsQuery>;
