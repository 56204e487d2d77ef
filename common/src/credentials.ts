import bcrypt from 'bcryptjs';
import { z } from './http/zod.ts';

// Password hashing, the same in every identity service (auth, users, customers). Passwords are
// hashed here, in the HTTP service that received them: db-service only ever stores hashes. The
// rules of emails and passwords are in @mart/common/domain/account.

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
