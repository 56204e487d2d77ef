import { httpServiceConfigSchema } from '@mart/common/config';
import { z } from '@mart/common/zod';

// An empty variable (as copied from .env.example) means "not set".
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

export const paymentConfigSchema = httpServiceConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8009),
  // Without a secret key, payments go through the simulated provider (no network, Stripe's test card names).
  STRIPE_SECRET_KEY: optional(z.string()),
  // Verifies POST /payments/webhook; without it every webhook is refused.
  STRIPE_WEBHOOK_SECRET: optional(z.string()),
  // Where the Stripe SDK sends requests; unset means Stripe's own API. Tests point these at a local fake.
  STRIPE_API_HOST: optional(z.string()),
  STRIPE_API_PORT: optional(z.coerce.number().int().min(1).max(65535)),
  STRIPE_API_PROTOCOL: optional(z.enum(['http', 'https'])),
  STRIPE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(20_000),
  // The SDK retries network failures with the same idempotency key, so a retry never charges twice.
  STRIPE_MAX_NETWORK_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
});

export type PaymentConfig = z.infer<typeof paymentConfigSchema>;
