import { z } from '../http/zod.ts';

// The credentials of an account, the same for customers and staff users. Passwords are hashed in
// the HTTP service that received them: db-service only ever sees hashes, and checks those itself.

/** Emails identify accounts case-insensitively, so they are trimmed and lower-cased. */
export const email = z.string().trim().toLowerCase().pipe(z.email().max(254)).openapi({ example: 'ada@example.com' });

/** Part of an email address, to find accounts by (matched case-insensitively, as addresses are stored lower-cased). */
export const emailFilter = z.string().trim().min(1).max(254);

// bcrypt reads only the first 72 bytes of a password: a longer one would be silently truncated.
const bcryptMaxBytes = 72;

/** A password being set (registration, change, new staff account). */
export const newPassword = z
  .string()
  .min(8)
  .refine((password) => Buffer.byteLength(password, 'utf8') <= bcryptMaxBytes, `must be at most ${bcryptMaxBytes} bytes`);

/** A password being checked (login, the current one before a change): any length is compared, within reason. */
export const givenPassword = z.string().min(1).max(1024);
