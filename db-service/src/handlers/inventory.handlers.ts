import { adjustmentFields, maxUnits, stockFields } from '@mart/common/domain/inventory';
import { InsufficientStockError, NotFoundError, ValidationError, type ErrorDetail } from '@mart/common/errors';
import { uuidPattern } from '@mart/common/ids';
import type { mart } from '@mart/proto';
import type { Db } from '../database.ts';
import type { InventoryAdjustment, InventoryItem } from '../generated/prisma/client.ts';
import { availableUnits, checkedFields, pageWindow, validFields, type Handlers } from '../handler.ts';

function toStockRecord(row: InventoryItem): mart.inventory.StockRecord.$Properties {
  return {
    productId: row.productId,
    onHand: row.onHand,
    reserved: row.reserved,
    available: availableUnits(row),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toAdjustment(row: InventoryAdjustment): mart.inventory.Adjustment.$Properties {
  return {
    id: row.id,
    productId: row.productId,
    delta: row.delta,
    reason: row.reason,
    onHandAfter: row.onHandAfter,
    actorId: row.actorId ?? '',
    createdAt: row.createdAt.toISOString(),
  };
}

async function productExists(db: Db, productId: string): Promise<boolean> {
  return uuidPattern.test(productId) && (await db.product.count({ where: { id: productId } })) > 0;
}

/** The product's stock row, created empty when missing and locked until the transaction ends. */
async function lockedStock(db: Db, productId: string): Promise<InventoryItem> {
  if (!(await productExists(db, productId))) throw new NotFoundError(`Product ${productId} not found`);
  await db.$executeRaw`
    INSERT INTO inventory_items (product_id, on_hand, reserved, updated_at)
    VALUES (${productId}::uuid, 0, 0, now())
    ON CONFLICT (product_id) DO NOTHING`;
  const [row] = await db.$queryRaw<InventoryItem[]>`
    SELECT product_id::text AS "productId", on_hand AS "onHand", reserved, updated_at AS "updatedAt"
    FROM inventory_items WHERE product_id = ${productId}::uuid FOR UPDATE`;
  return row!;
}

export const inventoryHandlers: Handlers = {
  'inventory.set': async (input, { db, emit }) => {
    const { onHand = 0 } = validFields(stockFields, input);
    const product = await db.product.findUnique({ where: { id: input.productId }, select: { id: true } });
    if (!product) throw new NotFoundError(`Product ${input.productId} not found`);

    // Create the record if missing, then lock it: order placement reserves against the same row.
    await db.$executeRaw`
      INSERT INTO inventory_items (product_id, on_hand, reserved, updated_at)
      VALUES (${input.productId}::uuid, 0, 0, now())
      ON CONFLICT (product_id) DO NOTHING`;
    const [current] = await db.$queryRaw<{ onHand: number; reserved: number }[]>`
      SELECT on_hand AS "onHand", reserved FROM inventory_items WHERE product_id = ${input.productId}::uuid FOR UPDATE`;
    const reserved = current?.reserved ?? 0;
    if (onHand < reserved) {
      throw new InsufficientStockError(`${reserved} unit(s) are reserved; on hand cannot go below that`, [
        { path: 'onHand', message: `must be at least ${reserved} (reserved)` },
      ]);
    }
    const row = await db.inventoryItem.update({ where: { productId: input.productId }, data: { onHand } });
    await db.inventoryAdjustment.create({
      data: {
        productId: input.productId,
        delta: onHand - (current?.onHand ?? 0),
        reason: 'set',
        onHandAfter: onHand,
        actorId: input.actorId || null,
      },
    });
    const stock = toStockRecord(row);
    emit('inventory.stock-changed', { stock, reason: 'set' });
    return stock;
  },

  'inventory.get': async (input, { db }) => {
    const product = uuidPattern.test(input.productId)
      ? await db.product.findUnique({ where: { id: input.productId }, select: { createdAt: true, inventory: true } })
      : null;
    if (!product) throw new NotFoundError(`Product ${input.productId} not found`);
    if (product.inventory) return toStockRecord(product.inventory);
    // A product nobody has stocked yet has a record of zeros.
    return { productId: input.productId, onHand: 0, reserved: 0, available: 0, updatedAt: product.createdAt.toISOString() };
  },

  'inventory.adjust': async (input, { db, emit }) => {
    const details: ErrorDetail[] = [];
    // proto3 sends an unset delta as 0 and an unset reason as '': both break their rule.
    const { delta = 0, reason = '' } = checkedFields(adjustmentFields, input, details);
    if (input.actorId && !uuidPattern.test(input.actorId)) details.push({ path: 'actorId', message: 'is not a user id' });
    if (details.length > 0) throw new ValidationError(details);

    const current = await lockedStock(db, input.productId);
    const onHand = current.onHand + delta;
    if (onHand < current.reserved) {
      throw new InsufficientStockError(`${current.reserved} unit(s) are reserved; on hand cannot go below that`, [
        {
          path: 'delta',
          message: `must be at least ${current.reserved - current.onHand} (on hand ${current.onHand}, reserved ${current.reserved})`,
        },
      ]);
    }
    if (onHand > maxUnits) throw new ValidationError([{ path: 'delta', message: `on hand cannot exceed ${maxUnits}` }]);
    const row = await db.inventoryItem.update({ where: { productId: input.productId }, data: { onHand } });
    await db.inventoryAdjustment.create({
      data: { productId: input.productId, delta, reason, onHandAfter: onHand, actorId: input.actorId || null },
    });
    const stock = toStockRecord(row);
    emit('inventory.stock-changed', { stock, reason });
    return stock;
  },

  'inventory.list-adjustments': async (input, { db }) => {
    if (!(await productExists(db, input.productId))) throw new NotFoundError(`Product ${input.productId} not found`);
    const window = pageWindow(input.page);
    const where = { productId: input.productId };
    const [rows, total] = await Promise.all([
      db.inventoryAdjustment.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: window.skip, take: window.take }),
      db.inventoryAdjustment.count({ where }),
    ]);
    return { items: rows.map(toAdjustment), page: { page: window.page, pageSize: window.pageSize, total } };
  },
};
