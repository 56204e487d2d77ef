import { httpServiceConfigSchema } from '@mart/common/config';
import { bcryptCostSchema } from '@mart/common/credentials';
import { userFields } from '@mart/common/domain/user';
import { z } from '@mart/common/zod';

/** Documented development defaults (README, .env.example); never used in production. */
export const developmentAdmin = { email: 'admin@mart.local', password: 'mart-admin-dev' } as const;

// An empty variable (ADMIN_EMAIL= in a .env file) counts as unset.
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

export const userConfigSchema = httpServiceConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(8002),
    BCRYPT_COST: bcryptCostSchema,
    // The first admin, created at start-up when there is no admin at all.
    ADMIN_EMAIL: z.preprocess(unsetIfEmpty, userFields.email.optional()),
    ADMIN_PASSWORD: z.preprocess(unsetIfEmpty, userFields.password.optional()),
    ADMIN_NAME: userFields.name.default('Administrator'),
  })
  .superRefine((config, context) => {
    if (config.NODE_ENV !== 'production') return;
    for (const variable of ['ADMIN_EMAIL', 'ADMIN_PASSWORD'] as const) {
      if (!config[variable]) context.addIssue({ code: 'custom', path: [variable], message: 'is required in production' });
    }
    if (config.ADMIN_PASSWORD === developmentAdmin.password) {
      context.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: 'must not be the development default in production' });
    }
  })
  .transform((config) => ({
    ...config,
    ADMIN_EMAIL: config.ADMIN_EMAIL ?? developmentAdmin.email,
    ADMIN_PASSWORD: config.ADMIN_PASSWORD ?? developmentAdmin.password,
  }));

export type UserConfig = z.infer<typeof userConfigSchema>;
