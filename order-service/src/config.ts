import { httpServiceConfigSchema } from '@mart/common/config';
import { orderLimits } from '@mart/common/domain/order';
import { z } from '@mart/common/zod';

export const orderConfigSchema = httpServiceConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8008),
  // How long an unpaid order holds its stock before it is cancelled.
  ORDER_TTL_SECONDS: z.coerce.number().int().min(1).max(orderLimits.ttlSeconds).default(900),
});

export type OrderConfig = z.infer<typeof orderConfigSchema>;
