import { httpServiceConfigSchema } from '@mart/common/config';
import { bcryptCostSchema } from '@mart/common/credentials';
import { z } from '@mart/common/zod';

const count = z.coerce.number().int().min(1);

export const authConfigSchema = httpServiceConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(8001),
    // PEM of the RS256 key that signs access tokens, inline or from a file. Only auth-service has it.
    AUTH_PRIVATE_KEY: z.string().optional(),
    AUTH_PRIVATE_KEY_FILE: z.string().optional(),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
    REFRESH_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(14 * 86_400),
    // Cost of the dummy hash that unknown emails are compared against: keep it equal to the services'.
    BCRYPT_COST: bcryptCostSchema,
    // Failed logins allowed per account and per client address within the window, per instance.
    LOGIN_MAX_FAILURES_PER_ACCOUNT: count.default(5),
    LOGIN_MAX_FAILURES_PER_ADDRESS: count.default(50),
    LOGIN_LIMIT_WINDOW_SECONDS: count.default(900),
    // Express "trust proxy": which proxies may name the client in X-Forwarded-For (e.g. 1, or
    // "loopback, 10.0.0.0/8" behind the gateway). Off by default, so clients cannot pick their address.
    TRUST_PROXY: z
      .string()
      .default('false')
      .transform((value) => (value === 'false' || value === '' ? false : /^\d+$/.test(value) ? Number(value) : value)),
  })
  .superRefine((config, context) => {
    if (!config.AUTH_PRIVATE_KEY && !config.AUTH_PRIVATE_KEY_FILE) {
      context.addIssue({
        code: 'custom',
        path: ['AUTH_PRIVATE_KEY'],
        message: 'required: the PEM of the RS256 signing key (or AUTH_PRIVATE_KEY_FILE, the path to it)',
      });
    }
  });

export type AuthConfig = z.infer<typeof authConfigSchema>;
