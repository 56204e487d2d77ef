import { ConflictError, NotFoundError } from '@mart/common/errors';
import type { mart } from '@mart/proto';
import type { Customer, Prisma } from '../generated/prisma/client.ts';
import { isForeignKeyViolation, rethrowNotFound, uniqueViolation } from '../database.errors.ts';
import { welcomeEmail } from '../emails.ts';
import { checkedName, pageWindow, type Handlers } from '../handler.ts';
import { bcryptHash, emailKey, revokeRefreshTokens } from './auth.handlers.ts';
import { queueEmail } from './notification.handlers.ts';

// The reply type has no password hash field, so a hash cannot leak through a reply by accident.
function toCustomer(row: Customer): mart.customer.Customer.$Properties {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    phone: row.phone,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export const customerHandlers: Handlers = {
  'customer.register': async (input, context) => {
    const { db, emit } = context;
    const data = {
      id: input.id,
      email: emailKey(input.email),
      name: checkedName(input.name),
      phone: input.phone || null,
      passwordHash: bcryptHash(input.passwordHash),
    };
    const row = await db.customer.create({ data }).catch((error: unknown) => {
      if (uniqueViolation(error)?.includes('email')) {
        throw new ConflictError('A customer with this email is already registered', [{ path: 'email', message: 'already registered' }]);
      }
      throw error;
    });
    const customer = toCustomer(row);
    emit('customer.registered', { customer });
    queueEmail(context, welcomeEmail(customer));
    return customer;
  },

  'customer.update': async (input, { db }) => {
    const data: Prisma.CustomerUpdateInput = {};
    if (input.name != null) data.name = checkedName(input.name);
    // An empty phone clears it (proto3 cannot carry an explicit null).
    if (input.phone != null) data.phone = input.phone === '' ? null : input.phone;
    const row = await db.customer.update({ where: { id: input.id }, data }).catch(rethrowNotFound(`Customer ${input.id} not found`));
    return toCustomer(row);
  },

  'customer.set-password': async (input, { db, now }) => {
    await db.customer
      .update({ where: { id: input.id }, data: { passwordHash: bcryptHash(input.passwordHash) } })
      .catch(rethrowNotFound(`Customer ${input.id} not found`));
    // Whoever knew the old password may hold a session: a new password ends them all.
    await revokeRefreshTokens(db, input.id, now);
    return {};
  },

  'customer.delete': async (input, { db, emit, now }) => {
    await db.customer.delete({ where: { id: input.id } }).catch((error: unknown) => {
      if (isForeignKeyViolation(error)) throw new ConflictError(`Customer ${input.id} has orders and cannot be deleted`);
      return rethrowNotFound(`Customer ${input.id} not found`)(error);
    });
    await revokeRefreshTokens(db, input.id, now);
    emit('customer.deleted', { id: input.id });
    return {};
  },

  'customer.get': async (input, { db }) => {
    const row = await db.customer.findUnique({ where: { id: input.id } });
    if (!row) throw new NotFoundError(`Customer ${input.id} not found`);
    return toCustomer(row);
  },

  'customer.list': async (input, { db }) => {
    const window = pageWindow(input.page);
    const where: Prisma.CustomerWhereInput = input.email ? { email: { contains: input.email.trim().toLowerCase() } } : {};
    const [rows, total] = await Promise.all([
      db.customer.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], skip: window.skip, take: window.take }),
      db.customer.count({ where }),
    ]);
    return { items: rows.map(toCustomer), page: { page: window.page, pageSize: window.pageSize, total } };
  },
};
