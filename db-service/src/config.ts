import { baseConfigSchema, notificationLeaseSeconds } from '@mart/common/config';
import { z } from '@mart/common/zod';
import type { HandlerSettings } from './handler.ts';

export const dbServiceConfigSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8011),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgresql:// URL')
    .default('postgresql://postgres@127.0.0.1:5432/mart'),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  // Processed-command records answer retries; a retry older than this is treated as new.
  PROCESSED_COMMAND_RETENTION_HOURS: z.coerce.number().int().min(1).default(72),
  KAFKA_GROUP_ID: z.string().default('db-service'),
  NOTIFICATION_LEASE_SECONDS: notificationLeaseSeconds,
});

export type DbServiceConfig = z.infer<typeof dbServiceConfigSchema>;

/** What the handlers are told of the configuration. */
export function handlerSettings(config: Pick<DbServiceConfig, 'NOTIFICATION_LEASE_SECONDS'>): HandlerSettings {
  return { emailLeaseSeconds: config.NOTIFICATION_LEASE_SECONDS };
}
