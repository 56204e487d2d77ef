import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { ErrorDetail } from '../errors.ts';

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

/**
 * The error details of a failed parse, one per field: the path under `at`, or `location` (body,
 * query, params) when the whole value is wrong. An unknown key is reported on its parent object;
 * each key is named itself.
 */
export function issueDetails(
  issues: readonly z.core.$ZodIssue[],
  { at = [], location }: { at?: string[]; location?: string } = {},
): ErrorDetail[] {
  return issues.flatMap((issue) =>
    (issue.code === 'unrecognized_keys' ? issue.keys : [undefined]).map((key) => {
      const path = [...at, ...issue.path.map(String), ...(key === undefined ? [] : [key])].join('.') || (location ?? '');
      return location ? { path, message: issue.message, location } : { path, message: issue.message };
    }),
  );
}
