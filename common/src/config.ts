import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';

// The only module that reads process.env: every service parses its whole configuration once
// at start-up and fails fast naming each bad variable.

export class ConfigError extends Error {}

export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}

const port = z.coerce.number().int().min(0).max(65535);

/** Variables every Mart process understands. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((value) =>
      value
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port[,host:port]')).min(1)),
  // Distinguishes instances of one service; each instance gets its own reply consumer group.
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .optional(),
});

/** Variables of the HTTP services (everything but db-service's own). */
export const httpServiceConfigSchema = baseConfigSchema.extend({
  PORT: port,
  RPC_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
  JSON_LIMIT: z.string().default('100kb'),
  // PEM of the RS256 key that verifies access tokens, inline or from a file.
  AUTH_PUBLIC_KEY: z.string().optional(),
  AUTH_PUBLIC_KEY_FILE: z.string().optional(),
  AUTH_ISSUER: z.string().default('mart-auth'),
  AUTH_AUDIENCE: z.string().default('mart'),
});

/**
 * NOTIFICATION_LEASE_SECONDS: how long a sender holds an email before another may try it (it must
 * exceed a send's duration). db-service leases each email it queues to the event's consumer for
 * this long; notification-service's retry job claims for as long.
 */
export const notificationLeaseSeconds = z.coerce.number().int().min(5).max(3600).default(120);

export type BaseConfig = z.infer<typeof baseConfigSchema>;
export type HttpServiceConfig = z.infer<typeof httpServiceConfigSchema>;

export function instanceId(config: { INSTANCE_ID?: string | undefined }, port?: number): string {
  return config.INSTANCE_ID ?? `${hostname()}-${port ?? process.pid}`;
}

/** Reads a PEM given inline or as a file; null when neither is configured. */
export function readKey(inline: string | undefined, file: string | undefined, variable: string): string | null {
  if (inline) return inline.replace(/\\n/g, '\n');
  if (!file) return null;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${variable}_FILE: cannot read ${file}: ${(error as Error).message}`);
  }
}
