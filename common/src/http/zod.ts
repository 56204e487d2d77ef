import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Services import z from here so every schema can carry OpenAPI metadata (.openapi()).
extendZodWithOpenApi(z);

export { z };

export const uuidSchema = z.uuid().openapi({ example: '3f0e7c1a-8a4b-4f2e-9c1d-2b7e5a9d4c10' });

export const idParams = z.object({ id: uuidSchema });

/** `page` and `pageSize` of every list endpoint (API.md conventions). */
export const pageQuery = z.object({
  // The page number travels as an int32: a larger one would wrap around and answer with page 1.
  page: z.coerce.number().int().min(1).max(2_147_483_647).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      page: z.number().int(),
      pageSize: z.number().int(),
      total: z.number().int(),
    })
    .openapi(name);
}

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string(), location: z.string().optional() })),
    }),
    requestId: z.string(),
  })
  .openapi('Error');
