import { categoryFields } from '@mart/common/domain/category';
import { ConflictError, NotFoundError, ValidationError } from '@mart/common/errors';
import type { mart } from '@mart/proto';
import type { Category, Prisma } from '../generated/prisma/client.ts';
import type { Db } from '../database.ts';
import { isRecordNotFound, uniqueViolation, rethrowNotFound } from '../database.errors.ts';
import { nameKey, pageWindow, validFields, type Handlers } from '../handler.ts';

/** Transaction-scoped advisory lock that serializes moves in the category tree (see checkMove). */
const categoryTreeLock = 7_301_001;

function toCategory(row: Category): mart.category.Category.$Properties {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    parentId: row.parentId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

// Both unique indexes on name_key: (parent_id, name_key) for children, name_key WHERE parent_id IS NULL for roots.
function duplicateName(error: unknown, name: string): never {
  if (uniqueViolation(error)?.includes('name_key')) {
    throw new ConflictError(`A category named "${name}" already exists at this level`, [{ path: 'name', message: 'already exists' }]);
  }
  throw error;
}

async function requireParent(db: Db, parentId: string): Promise<void> {
  const parent = await db.category.findUnique({ where: { id: parentId }, select: { id: true } });
  if (!parent) throw new ValidationError([{ path: 'parentId', message: 'no such category' }]);
}

/**
 * Refuses to put a category under itself or one of its descendants. Moves take one advisory lock,
 * so two concurrent moves (A under B, B under A) cannot both pass this check.
 */
async function checkMove(db: Db, id: string, parentId: string): Promise<void> {
  await db.$executeRaw`SELECT pg_advisory_xact_lock(${categoryTreeLock}::bigint)`;
  await requireParent(db, parentId);
  const [found] = await db.$queryRaw<{ cycle: boolean }[]>`
    WITH RECURSIVE ancestors AS (
      SELECT id, parent_id FROM categories WHERE id = ${parentId}::uuid
      UNION
      SELECT c.id, c.parent_id FROM categories c JOIN ancestors a ON c.id = a.parent_id
    )
    SELECT EXISTS (SELECT 1 FROM ancestors WHERE id = ${id}::uuid) AS cycle`;
  if (found?.cycle) {
    throw new ValidationError([{ path: 'parentId', message: 'is this category or one of its descendants: the tree would have a cycle' }]);
  }
}

export const categoryHandlers: Handlers = {
  'category.create': async (input, { db, emit }) => {
    const { name = '', description } = validFields(categoryFields, input);
    const parentId = input.parentId || null;
    if (parentId) await requireParent(db, parentId);
    const row = await db.category
      .create({ data: { id: input.id, name, nameKey: nameKey(name), description: description || null, parentId } })
      .catch((error: unknown) => duplicateName(error, name));
    emit('category.created', { category: toCategory(row) });
    return toCategory(row);
  },

  'category.update': async (input, { db, emit }) => {
    const fields = validFields(categoryFields, input);
    const existing = await db.category.findUnique({ where: { id: input.id }, select: { id: true } });
    if (!existing) throw new NotFoundError(`Category ${input.id} not found`);
    const data: Prisma.CategoryUncheckedUpdateInput = {};
    if (fields.name !== undefined) {
      data.name = fields.name;
      data.nameKey = nameKey(fields.name);
    }
    // An empty description clears it (proto3 cannot carry an explicit null).
    if (fields.description !== undefined) data.description = fields.description === '' ? null : fields.description;
    if (input.clearParent) data.parentId = null;
    else if (input.parentId) {
      await checkMove(db, input.id, input.parentId);
      data.parentId = input.parentId;
    }
    const row = await db.category.update({ where: { id: input.id }, data }).catch((error: unknown) => {
      if (isRecordNotFound(error)) throw new NotFoundError(`Category ${input.id} not found`);
      return duplicateName(error, fields.name ?? '');
    });
    emit('category.updated', { category: toCategory(row) });
    return toCategory(row);
  },

  'category.delete': async (input, { db, emit }) => {
    const children = await db.category.count({ where: { parentId: input.id } });
    if (children > 0) throw new ConflictError(`Category ${input.id} has ${children} sub-categor${children === 1 ? 'y' : 'ies'}`);
    const products = await db.product.count({ where: { categoryId: input.id } });
    if (products > 0) throw new ConflictError(`Category ${input.id} is used by ${products} product(s)`);
    await db.category.delete({ where: { id: input.id } }).catch(rethrowNotFound(`Category ${input.id} not found`));
    emit('category.deleted', { id: input.id });
    return {};
  },

  'category.get': async (input, { db }) => {
    const row = await db.category.findUnique({ where: { id: input.id } });
    if (!row) throw new NotFoundError(`Category ${input.id} not found`);
    return toCategory(row);
  },

  'category.list': async (input, { db }) => {
    const window = pageWindow(input.page);
    const where: Prisma.CategoryWhereInput = input.parentId ? { parentId: input.parentId } : input.rootsOnly ? { parentId: null } : {};
    const [rows, total] = await Promise.all([
      db.category.findMany({ where, orderBy: [{ name: 'asc' }, { id: 'asc' }], skip: window.skip, take: window.take }),
      db.category.count({ where }),
    ]);
    return { items: rows.map(toCategory), page: { page: window.page, pageSize: window.pageSize, total } };
  },
};
