import { httpServiceConfigSchema, notificationLeaseSeconds } from '@mart/common/config';
import { z } from '@mart/common/zod';

// An empty variable (as copied from .env.example) means "not set".
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
const gmailVariables = ['GMAIL_CLIENT_ID', 'GMAIL_CLIENT_SECRET', 'GMAIL_REFRESH_TOKEN', 'GMAIL_SENDER'] as const;

export const notificationConfigSchema = httpServiceConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(8010),
    // OAuth2 client of a Google Cloud project with the Gmail API, and a refresh token for the
    // sending account (scope gmail.send). All four, or none: then emails go to the local transport.
    GMAIL_CLIENT_ID: optional(z.string()),
    GMAIL_CLIENT_SECRET: optional(z.string()),
    GMAIL_REFRESH_TOKEN: optional(z.string()),
    GMAIL_SENDER: optional(z.string()),
    // Google's API root (and its OAuth token endpoint, <root>token); tests point it at a local fake.
    GMAIL_API_ROOT_URL: optional(z.url()),
    GMAIL_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(15_000),
    // The From of emails through the local transport (Gmail sends as GMAIL_SENDER).
    MAIL_FROM: z.string().default('Mart <no-reply@mart.local>'),
    NOTIFICATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    // Retry n waits NOTIFICATION_RETRY_BASE_SECONDS * 2^(n-1), at most NOTIFICATION_RETRY_MAX_SECONDS.
    NOTIFICATION_RETRY_BASE_SECONDS: z.coerce.number().int().min(1).default(30),
    NOTIFICATION_RETRY_MAX_SECONDS: z.coerce.number().int().min(1).default(3600),
    NOTIFICATION_LEASE_SECONDS: notificationLeaseSeconds,
  })
  .superRefine((config, context) => {
    const set = gmailVariables.filter((name) => config[name]);
    if (set.length === 0 || set.length === gmailVariables.length) return;
    for (const name of gmailVariables.filter((variable) => !config[variable])) {
      context.addIssue({ code: 'custom', path: [name], message: `required when ${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set` });
    }
  });

export type NotificationConfig = z.infer<typeof notificationConfigSchema>;
