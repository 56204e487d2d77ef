import { userFields } from '@mart/common/domain/user';
import { ConflictError, NotFoundError, ValidationError } from '@mart/common/errors';
import type { mart } from '@mart/proto';
import { staffRole } from '@mart/proto/enums';
import type { Prisma, StaffRole, StaffUser } from '../generated/prisma/client.ts';
import type { Db } from '../database.ts';
import { rethrowNotFound, uniqueViolation } from '../database.errors.ts';
import { pageWindow, validFields, type Handlers } from '../handler.ts';
import { bcryptHash, revokeRefreshTokens } from './auth.handlers.ts';

// The reply type has no password hash field, so a hash cannot leak through a reply by accident.
function toUser(row: StaffUser): mart.user.User.$Properties {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: staffRole.toWire(row.role),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function checkedRole(role: mart.user.StaffRole): StaffRole {
  const found = staffRole.fromWire(role);
  if (!found) throw new ValidationError([{ path: 'role', message: 'must be admin or staff' }]);
  return found;
}

function duplicateEmail(error: unknown): never {
  if (uniqueViolation(error)?.includes('email')) {
    throw new ConflictError('A staff user with this email already exists', [{ path: 'email', message: 'already exists' }]);
  }
  throw error;
}

/**
 * Locks every admin row for the rest of the command's transaction and returns their ids. Every
 * change that can remove an admin takes these locks first, so two concurrent demotions or
 * deletions are applied one after the other and the second sees the first's outcome: the
 * system can never be left without an admin.
 */
async function lockAdmins(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`SELECT id::text AS id FROM staff_users WHERE role = 'ADMIN' ORDER BY id FOR UPDATE`;
  return rows.map((row) => row.id);
}

async function refuseToRemoveLastAdmin(db: Db, id: string, change: 'deleted' | 'demoted'): Promise<void> {
  const admins = await lockAdmins(db);
  if (admins.length === 1 && admins[0] === id) {
    throw new ConflictError(`The last admin cannot be ${change}`, [
      { path: change === 'demoted' ? 'role' : 'id', message: 'is the last admin' },
    ]);
  }
}

export const userHandlers: Handlers = {
  'user.create': async (input, { db }) => {
    const { email = '', name = '' } = validFields(userFields, input);
    const data = { id: input.id, email, name, passwordHash: bcryptHash(input.passwordHash), role: checkedRole(input.role) };
    return toUser(await db.staffUser.create({ data }).catch(duplicateEmail));
  },

  'user.update': async (input, { db, now }) => {
    const { name } = validFields(userFields, { name: input.name });
    const data: Prisma.StaffUserUpdateInput = {};
    if (name !== undefined) data.name = name;
    if (input.passwordHash != null) data.passwordHash = bcryptHash(input.passwordHash);
    if (input.role != null) {
      data.role = checkedRole(input.role);
      if (data.role === 'STAFF') await refuseToRemoveLastAdmin(db, input.id, 'demoted');
    }
    const row = await db.staffUser.update({ where: { id: input.id }, data }).catch(rethrowNotFound(`User ${input.id} not found`));
    // A new password ends every session; a new role reaches the user at their next refresh.
    if (input.passwordHash != null) await revokeRefreshTokens(db, row.id, now);
    return toUser(row);
  },

  'user.delete': async (input, { db, now }) => {
    await refuseToRemoveLastAdmin(db, input.id, 'deleted');
    await db.staffUser.delete({ where: { id: input.id } }).catch(rethrowNotFound(`User ${input.id} not found`));
    await revokeRefreshTokens(db, input.id, now);
    return {};
  },

  'user.get': async (input, { db }) => {
    const row = await db.staffUser.findUnique({ where: { id: input.id } });
    if (!row) throw new NotFoundError(`User ${input.id} not found`);
    return toUser(row);
  },

  'user.list': async (input, { db }) => {
    const window = pageWindow(input.page);
    const [rows, total] = await Promise.all([
      db.staffUser.findMany({ orderBy: [{ email: 'asc' }, { id: 'asc' }], skip: window.skip, take: window.take }),
      db.staffUser.count(),
    ]);
    return { items: rows.map(toUser), page: { page: window.page, pageSize: window.pageSize, total } };
  },

  /**
   * Start-up bootstrap: makes the configured account an admin only when there is no admin at all.
   * If that email already belongs to a staff user, it is promoted and given the configured
   * password: the operator's way back in after the admins were removed behind Mart's back.
   */
  'user.ensure-admin': async (input, { db }) => {
    if ((await lockAdmins(db)).length > 0) return { created: false };
    const { email = '', name = '' } = validFields(userFields, input);
    const passwordHash = bcryptHash(input.passwordHash);
    await db.staffUser.upsert({
      where: { email },
      create: { id: input.id, email, name, passwordHash, role: 'ADMIN' },
      update: { role: 'ADMIN', passwordHash },
    });
    return { created: true };
  },
};
