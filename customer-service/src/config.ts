import { bcryptCostSchema, httpServiceConfigSchema, z } from '@mart/common';

export const customerConfigSchema = httpServiceConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8003),
  BCRYPT_COST: bcryptCostSchema,
});

export type CustomerConfig = z.infer<typeof customerConfigSchema>;
