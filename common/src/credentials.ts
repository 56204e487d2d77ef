import bcrypt from 'bcryptjs';
import { z } from './http/zod.ts';

// Account credentials, the same in every identity service (auth, users, customers). Passwords are
// hashed here, in the HTTP service that received them: db-service only ever stores hashes.

/** Emails identify accounts case-insensitively, so they are trimmed and lower-cased at the edge. */
export const emailSchema = z.string().trim().toLowerCase().pipe(z.email().max(254)).openapi({ example: 'ada@example.com' });

// bcrypt reads only the first 72 bytes of a password: a longer one would be silently truncated.
const bcryptMaxBytes = 72;

/** The rule for a password being set (registration, change, new staff account). */
export const newPasswordSchema = z
  .string()
  .min(8)
  .refine((password) => Buffer.byteLength(password, 'utf8') <= bcryptMaxBytes, `must be at most ${bcryptMaxBytes} bytes`);

/**
 * BCRYPT_COST, the work factor of new hashes: each step doubles the time. 10 takes about 65 ms
 * per hash with bcryptjs on one core of our 2-core machines (see bench/login.bench.ts); stored
 * hashes keep the cost they were made with, so raising it later is safe.
 */
export const bcryptCostSchema = z.coerce.number().int().min(4).max(15).default(10);

export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, cost);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}
