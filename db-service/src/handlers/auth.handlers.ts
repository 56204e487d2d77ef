import { email as accountEmail } from '@mart/common/domain/account';
import { UnauthorizedError, ValidationError } from '@mart/common/errors';
import type { mart } from '@mart/proto';
import { principalKind } from '@mart/proto/enums';
import type { PrincipalKind, StaffRole } from '../generated/prisma/client.ts';
import type { Db } from '../database.ts';
import { validFields, type Handlers } from '../handler.ts';

// Credentials and refresh tokens. db-service never sees a password or a refresh token: callers
// hash both, and these handlers refuse anything that does not look like the hash they expect.

const bcryptHashPattern = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const sha256HexPattern = /^[0-9a-f]{64}$/;

/** Guards against a caller storing a plain password by mistake. */
export function bcryptHash(value: string): string {
  if (!bcryptHashPattern.test(value)) throw new ValidationError([{ path: 'passwordHash', message: 'is not a bcrypt hash' }]);
  return value;
}

export function roleName(role: StaffRole): 'admin' | 'staff' {
  return role === 'ADMIN' ? 'admin' : 'staff';
}

/** Ends every session of a principal, e.g. when its password changes or it is deleted. */
export async function revokeRefreshTokens(db: Db, principalId: string, now: Date): Promise<void> {
  await db.refreshToken.updateMany({ where: { principalId, revokedAt: null }, data: { revokedAt: now } });
}

async function revokeFamily(db: Db, familyId: string, now: Date): Promise<void> {
  await db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: now } });
}

function checkedKind(kind: mart.auth.PrincipalKind): PrincipalKind {
  const found = principalKind.fromWire(kind);
  if (!found) throw new ValidationError([{ path: 'kind', message: 'must be customer or user' }]);
  return found;
}

function tokenHash(value: string, path: string): string {
  if (!sha256HexPattern.test(value)) throw new ValidationError([{ path, message: 'is not a SHA-256 hex digest' }]);
  return value;
}

function futureDate(value: string, path: string, now: Date): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || date <= now) throw new ValidationError([{ path, message: 'must be a future ISO 8601 time' }]);
  return date;
}

/** The principal as it is now: a role changed since login applies from the next refresh on. */
async function currentPrincipal(db: Db, kind: PrincipalKind, id: string): Promise<{ email: string; role: string } | null> {
  if (kind === 'CUSTOMER') {
    const customer = await db.customer.findUnique({ where: { id }, select: { email: true } });
    return customer && { email: customer.email, role: '' };
  }
  const user = await db.staffUser.findUnique({ where: { id }, select: { email: true, role: true } });
  return user && { email: user.email, role: roleName(user.role) };
}

const invalidRefreshToken = () => new UnauthorizedError('Invalid refresh token');

export const authHandlers: Handlers = {
  'auth.get-credentials': async (input, { db }) => {
    // Emails are stored as the account rule gives them (trimmed, lower-cased), so lookups are case-insensitive.
    const { email = '' } = validFields({ email: accountEmail }, input);
    const select = { id: true, email: true, passwordHash: true } as const;
    if (checkedKind(input.kind) === 'CUSTOMER') {
      const customer = await db.customer.findUnique({ where: { email }, select });
      return customer
        ? { found: true, principalId: customer.id, email: customer.email, passwordHash: customer.passwordHash }
        : { found: false };
    }
    const user = await db.staffUser.findUnique({ where: { email }, select: { ...select, role: true } });
    if (!user) return { found: false };
    return { found: true, principalId: user.id, email: user.email, passwordHash: user.passwordHash, role: roleName(user.role) };
  },

  'auth.issue-refresh-token': async (input, { db, now }) => {
    await db.refreshToken.create({
      data: {
        id: input.id,
        familyId: input.familyId,
        principalId: input.principalId,
        principalKind: checkedKind(input.kind),
        tokenHash: tokenHash(input.tokenHash, 'tokenHash'),
        expiresAt: futureDate(input.expiresAt, 'expiresAt', now),
      },
    });
    return {};
  },

  'auth.rotate-refresh-token': async (input, { db, now }) => {
    const token = await db.refreshToken.findUnique({ where: { tokenHash: tokenHash(input.tokenHash, 'tokenHash') } });
    if (!token || token.revokedAt) throw invalidRefreshToken();
    if (token.rotatedAt) {
      await revokeFamily(db, token.familyId, now);
      return { principalId: token.principalId, kind: principalKind.toWire(token.principalKind), reuseDetected: true };
    }
    if (token.expiresAt <= now) throw invalidRefreshToken();
    const principal = await currentPrincipal(db, token.principalKind, token.principalId);
    if (!principal) throw invalidRefreshToken();

    // Conditional, so two concurrent rotations of one token (even on two db-service instances)
    // cannot both win: the second sees rotated_at set and is treated as reuse.
    const claimed = await db.refreshToken.updateMany({
      where: { id: token.id, rotatedAt: null, revokedAt: null },
      data: { rotatedAt: now },
    });
    if (claimed.count === 0) {
      await revokeFamily(db, token.familyId, now);
      return { principalId: token.principalId, kind: principalKind.toWire(token.principalKind), reuseDetected: true };
    }
    await db.refreshToken.create({
      data: {
        id: input.newId,
        familyId: token.familyId,
        principalId: token.principalId,
        principalKind: token.principalKind,
        tokenHash: tokenHash(input.newTokenHash, 'newTokenHash'),
        expiresAt: futureDate(input.newExpiresAt, 'newExpiresAt', now),
      },
    });
    return {
      principalId: token.principalId,
      kind: principalKind.toWire(token.principalKind),
      email: principal.email,
      role: principal.role,
    };
  },

  // Logout ends the whole session (the token's family); an unknown token is already logged out.
  'auth.revoke-refresh-token': async (input, { db, now }) => {
    const token = await db.refreshToken.findUnique({ where: { tokenHash: tokenHash(input.tokenHash, 'tokenHash') } });
    if (token) await revokeFamily(db, token.familyId, now);
    return {};
  },
};
