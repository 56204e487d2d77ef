import { httpServiceConfigSchema } from '@mart/common/config';
import { z } from '@mart/common/zod';

export const categoryConfigSchema = httpServiceConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8005),
});
