import { httpServiceConfigSchema, z } from '@mart/common';

export const inventoryConfigSchema = httpServiceConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8007),
});
