import { idParams, pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';

const maxCents = 2_147_483_647; // db-service stores prices in an INTEGER column
const isoCurrencies = new Set(Intl.supportedValuesOf('currency'));

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

const sku = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'letters, digits and . _ / - only')
  .openapi({ description: 'Unique', example: 'ACME-ROCKET-01' });
const name = z.string().trim().min(1).max(200);
const description = z.string().max(5000);
const priceCents = z.number().int().min(0).max(maxCents);
// Intl knows the ISO 4217 list, in upper case.
const currency = z.string().refine((code) => isoCurrencies.has(code), 'expected an upper-case ISO 4217 code such as USD');
const brandId = uuidSchema.openapi({ description: 'An existing brand; unknown: 400 naming brandId' });
const categoryId = uuidSchema.openapi({ description: 'An existing category; unknown: 400 naming categoryId' });

export const createProductBody = z
  .object({
    sku,
    name,
    description: description.optional(),
    priceCents,
    currency: currency.default('USD'),
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

const centsQuery = z.coerce.number().int().min(0).max(maxCents);

export const productSorts = ['name', 'price', '-price', '-createdAt'] as const;

export const listProductsQuery = pageQuery
  .extend({
    q: z.string().trim().min(1).max(100).optional().openapi({
      description: 'Words that must each occur in the name or the description (case-insensitive, also inside longer words)',
    }),
    brandId: uuidSchema.optional(),
    categoryId: uuidSchema.optional().openapi({ description: 'This category and all its sub-categories' }),
    minPriceCents: centsQuery.optional(),
    maxPriceCents: centsQuery.optional(),
    inStock: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional()
      .openapi({ description: 'true: only products with available > 0' }),
    sort: z.enum(productSorts).default('name').openapi({ description: 'Ties are broken by id, so pages never overlap' }),
  })
  .refine((query) => query.minPriceCents === undefined || query.maxPriceCents === undefined || query.minPriceCents <= query.maxPriceCents, {
    message: 'must not be below minPriceCents',
    path: ['maxPriceCents'],
  });

export const productPageSchema = pageOf(productSchema, 'ProductPage');
export const productIdParams = idParams;

export type ProductDto = z.infer<typeof productSchema>;
export type CreateProductBody = z.infer<typeof createProductBody>;
export type UpdateProductBody = z.infer<typeof updateProductBody>;
export type ListProductsQuery = z.infer<typeof listProductsQuery>;
