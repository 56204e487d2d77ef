import { brandFields, brandSearchFields } from '@mart/common/domain/brand';
import { idParams, pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';

export const brandSchema = z
  .object({
    id: uuidSchema,
    name: z.string(),
    description: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Brand');

const { name, description } = brandFields;

export const createBrandBody = z.object({ name, description: description.optional() }).strict().openapi('CreateBrand');

export const updateBrandBody = z
  .object({ name: name.optional(), description: description.nullable().optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'at least one of name, description is required' })
  .openapi('UpdateBrand');

export const listBrandsQuery = pageQuery.extend({ q: brandSearchFields.q.optional() });

export const brandPageSchema = pageOf(brandSchema, 'BrandPage');
export const brandIdParams = idParams;

export type BrandDto = z.infer<typeof brandSchema>;
export type CreateBrandBody = z.infer<typeof createBrandBody>;
export type UpdateBrandBody = z.infer<typeof updateBrandBody>;
export type ListBrandsQuery = z.infer<typeof listBrandsQuery>;
