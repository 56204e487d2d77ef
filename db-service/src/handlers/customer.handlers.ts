import { customerFields, customerSearchFields } from '@mart/common/domain/customer';
import { ConflictError, NotFoundError } from '@mart/common/errors';
import type { mart } from '@mart/proto';
import type { Customer, Prisma } from '../generated/prisma/client.ts';
import { isForeignKeyViolation, rethrowNotFound, uniqueViolation } from '../database.errors.ts';
import { welcomeEmail } from '../emails.ts';
import { pageWindow, validFields, type Handlers } from '../handler.ts';
import { bcryptHash, revokeRefreshTokens } from './auth.handlers.ts';
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
    // No phone is an empty one (proto3 cannot carry an explicit null).
    const {
      email = '',
      name = '',
      phone = null,
    } = validFields(customerFields, {
      email: input.email,
      name: input.name,
      phone: input.phone || null,
    });
    const data = { id: input.id, email, name, phone, passwordHash: bcryptHash(input.passwordHash) };
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
    // An empty phone clears it (proto3 cannot carry an explicit null).
    const fields = validFields(customerFields, { name: input.name, phone: input.phone || null });
    const data: Prisma.CustomerUpdateInput = {};
    if (fields.name !== undefined) data.name = fields.name;
    if (input.phone === '') data.phone = null;
    else if (fields.phone !== undefined) data.phone = fields.phone;
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
    const { email } = validFields(customerSearchFields, input);
    const window = pageWindow(input.page);
    // Addresses are stored lower-cased (the account email rule).
    const where: Prisma.CustomerWhereInput = email ? { email: { contains: email.toLowerCase() } } : {};
    const [rows, total] = await Promise.all([
      db.customer.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], skip: window.skip, take: window.take }),
      db.customer.count({ where }),
    ]);
    return { items: rows.map(toCustomer), page: { page: window.page, pageSize: window.pageSize, total } };
  },
};
