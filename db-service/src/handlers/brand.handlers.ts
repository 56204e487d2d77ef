import { brandFields, brandSearchFields } from '@mart/common/domain/brand';
import { ConflictError, NotFoundError } from '@mart/common/errors';
import type { mart } from '@mart/proto';
import type { Brand, Prisma } from '../generated/prisma/client.ts';
import { isRecordNotFound, rethrowNotFound, uniqueViolation } from '../database.errors.ts';
import { nameKey, pageWindow, validFields, type Handlers } from '../handler.ts';

function toBrand(row: Brand): mart.brand.Brand.$Properties {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function duplicateName(error: unknown, name: string): never {
  if (uniqueViolation(error)?.includes('name_key')) {
    throw new ConflictError(`A brand named "${name}" already exists`, [{ path: 'name', message: 'already exists' }]);
  }
  throw error;
}

export const brandHandlers: Handlers = {
  'brand.create': async (input, { db, emit }) => {
    const { name = '', description = null } = validFields(brandFields, input);
    const row = await db.brand
      .create({ data: { id: input.id, name, nameKey: nameKey(name), description } })
      .catch((error: unknown) => duplicateName(error, name));
    emit('brand.created', { brand: toBrand(row) });
    return toBrand(row);
  },

  'brand.update': async (input, { db, emit }) => {
    const fields = validFields(brandFields, input);
    const data: Prisma.BrandUpdateInput = {};
    if (fields.name !== undefined) {
      data.name = fields.name;
      data.nameKey = nameKey(fields.name);
    }
    // An empty description clears it (proto3 cannot carry an explicit null).
    if (fields.description !== undefined) data.description = fields.description === '' ? null : fields.description;
    const row = await db.brand.update({ where: { id: input.id }, data }).catch((error: unknown) => {
      if (isRecordNotFound(error)) throw new NotFoundError(`Brand ${input.id} not found`);
      return duplicateName(error, fields.name ?? '');
    });
    emit('brand.updated', { brand: toBrand(row) });
    return toBrand(row);
  },

  'brand.delete': async (input, { db, emit }) => {
    const products = await db.product.count({ where: { brandId: input.id } });
    if (products > 0) throw new ConflictError(`Brand ${input.id} is used by ${products} product(s)`);
    await db.brand.delete({ where: { id: input.id } }).catch(rethrowNotFound(`Brand ${input.id} not found`));
    emit('brand.deleted', { id: input.id });
    return {};
  },

  'brand.get': async (input, { db }) => {
    const row = await db.brand.findUnique({ where: { id: input.id } });
    if (!row) throw new NotFoundError(`Brand ${input.id} not found`);
    return toBrand(row);
  },

  'brand.list': async (input, { db }) => {
    const { q } = validFields(brandSearchFields, input);
    const window = pageWindow(input.page);
    const where: Prisma.BrandWhereInput = q ? { name: { contains: q, mode: 'insensitive' } } : {};
    const [rows, total] = await Promise.all([
      db.brand.findMany({ where, orderBy: [{ name: 'asc' }, { id: 'asc' }], skip: window.skip, take: window.take }),
      db.brand.count({ where }),
    ]);
    return { items: rows.map(toBrand), page: { page: window.page, pageSize: window.pageSize, total } };
  },
};
