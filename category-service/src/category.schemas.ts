import { categoryFields } from '@mart/common/domain/category';
import { idParams, pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';

export const categorySchema = z
  .object({
    id: uuidSchema,
    name: z.string(),
    description: z.string().nullable(),
    parentId: uuidSchema.nullable().openapi({ description: 'The parent category; null for a top-level category' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Category');

const name = categoryFields.name.openapi({ description: 'Unique among its siblings, whatever its case' });
const { description } = categoryFields;
const parentId = uuidSchema.nullable().openapi({
  description: 'null or absent: top level. Unknown, or the category itself or one of its descendants (a cycle): 400 naming parentId',
});

export const createCategoryBody = z
  .object({ name, description: description.optional(), parentId: parentId.optional() })
  .strict()
  .openapi('CreateCategory');

export const updateCategoryBody = z
  .object({ name: name.optional(), description: description.nullable().optional(), parentId: parentId.optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'at least one of name, description, parentId is required' })
  .openapi('UpdateCategory');

export const listCategoriesQuery = pageQuery
  .extend({
    parentId: uuidSchema.optional().openapi({ description: 'Only the direct children of this category' }),
    roots: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional()
      .openapi({ description: 'true: only top-level categories. Without parentId or roots, every category is listed' }),
  })
  .refine((query) => !(query.parentId && query.roots), { message: 'give parentId or roots=true, not both', path: ['roots'] });

export const categoryPageSchema = pageOf(categorySchema, 'CategoryPage');
export const categoryIdParams = idParams;

export type CategoryDto = z.infer<typeof categorySchema>;
export type CreateCategoryBody = z.infer<typeof createCategoryBody>;
export type UpdateCategoryBody = z.infer<typeof updateCategoryBody>;
export type ListCategoriesQuery = z.infer<typeof listCategoriesQuery>;
