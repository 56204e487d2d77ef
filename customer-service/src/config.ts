import { httpServiceConfigSchema } from '@mart/common/config';
import { bcryptCostSchema } from '@mart/common/credentials';
import { z } from '@mart/common/zod';

export const customerConfigSchema = httpServiceConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8003),
  BCRYPT_COST: bcryptCostSchema,
});

export type CustomerConfig = z.infer<typeof customerConfigSchema>;
