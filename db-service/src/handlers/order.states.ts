import { canMoveOrder } from '@mart/common/domain/order';
import { InvalidStateError } from '@mart/common/errors';
import type { mart } from '@mart/proto';
import { orderStatus } from '@mart/proto/enums';
import type { Db } from '../database.ts';
import { OrderStatus, Prisma, ReservationStatus, type InventoryItem, type Order, type OrderItem } from '../generated/prisma/client.ts';
import { orderStatusEmail } from '../emails.ts';
import { availableUnits, type HandlerContext } from '../handler.ts';
import { queueEmail } from './notification.handlers.ts';

// What each move of an order (@mart/common/domain/order has its state machine) does to the rest
// of the database, in the transaction that moves it: paid commits its stock, cancelled releases
// it, refunded returns it.

/** The column that records when an order entered a state. */
const enteredAt = {
  PAID: 'paid_at',
  SHIPPED: 'shipped_at',
  DELIVERED: 'delivered_at',
  CANCELLED: 'cancelled_at',
  REFUNDED: 'refunded_at',
} as const satisfies Record<Exclude<OrderStatus, 'PENDING_PAYMENT'>, string>;

export interface Address {
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  country: string;
}

export type OrderRow = Order & { items: Pick<OrderItem, 'productId' | 'sku' | 'name' | 'quantity' | 'unitPriceCents'>[] };
export const withItems = { items: { orderBy: { productId: 'asc' } } } as const satisfies Prisma.OrderInclude;

/**
 * An OrderRow in plain SQL, from the orders row named `alias`: its columns and its items as one
 * JSON array, so an order and its lines are one statement read past Prisma.
 */
export function orderRowColumns(alias: string): Prisma.Sql {
  const o = Prisma.raw(alias);
  return Prisma.sql`
    ${o}.id::text AS id, ${o}.customer_id::text AS "customerId", ${o}.status::text AS status, ${o}.total_cents AS "totalCents",
    ${o}.currency, ${o}.shipping_address AS "shippingAddress", ${o}.idempotency_key AS "idempotencyKey",
    ${o}.expires_at AS "expiresAt", ${o}.paid_at AS "paidAt", ${o}.shipped_at AS "shippedAt", ${o}.delivered_at AS "deliveredAt",
    ${o}.cancelled_at AS "cancelledAt", ${o}.refunded_at AS "refundedAt", ${o}.created_at AS "createdAt", ${o}.updated_at AS "updatedAt",
    COALESCE((SELECT json_agg(json_build_object('productId', i.product_id, 'sku', i.sku, 'name', i.name, 'quantity', i.quantity,
                                                'unitPriceCents', i.unit_price_cents) ORDER BY i.product_id)
              FROM order_items i WHERE i.order_id = ${o}.id), '[]'::json) AS items`;
}

export function toOrder(row: OrderRow): mart.order.Order.$Properties {
  const address = row.shippingAddress as unknown as Address;
  return {
    id: row.id,
    customerId: row.customerId,
    status: orderStatus.toWire(row.status),
    items: row.items.map((item) => ({
      productId: item.productId,
      quantity: item.quantity,
      unitPriceCents: item.unitPriceCents,
      sku: item.sku,
      name: item.name,
    })),
    totalCents: row.totalCents,
    currency: row.currency,
    shippingAddress: address,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export interface LockedOrder {
  id: string;
  status: OrderStatus;
  customerId: string;
}

/** Locks the order for the rest of the transaction: moves of one order (a payment racing a cancel) take turns. */
export async function lockOrder(db: Db, id: string): Promise<LockedOrder | undefined> {
  const [row] = await db.$queryRaw<LockedOrder[]>`
    SELECT id::text AS id, status::text AS status, customer_id::text AS "customerId" FROM orders WHERE id = ${id}::uuid FOR UPDATE`;
  return row;
}

/**
 * How an order's reservations follow it into a state. Each move acts only on reservations in its
 * `from` state, so a move that already happened finds nothing left to do.
 */
interface StockMove {
  from: ReservationStatus;
  to: ReservationStatus;
  /** Per reserved unit: the change of on hand and of reserved. */
  onHand: -1 | 0 | 1;
  reserved: -1 | 0;
  /** Why the stock changed, for the audit trail and the stock-changed event. */
  reason: string;
}

const stockFollows: Partial<Record<OrderStatus, StockMove>> = {
  PAID: { from: ReservationStatus.RESERVED, to: ReservationStatus.COMMITTED, onHand: -1, reserved: -1, reason: 'paid' },
  CANCELLED: { from: ReservationStatus.RESERVED, to: ReservationStatus.RELEASED, onHand: 0, reserved: -1, reason: 'cancelled' },
  // Returned units are back on hand; the reservation ends RELEASED like a cancelled one.
  REFUNDED: { from: ReservationStatus.COMMITTED, to: ReservationStatus.RELEASED, onHand: 1, reserved: 0, reason: 'refunded' },
};

async function moveStock(orderId: string, move: StockMove, { db, emit }: HandlerContext): Promise<void> {
  // Stock rows are locked in product id order, as order placement does, so neither can deadlock the other.
  const reservations = await db.$queryRaw<{ id: string; productId: string; quantity: number }[]>`
    SELECT id::text AS id, product_id::text AS "productId", quantity FROM reservations
    WHERE order_id = ${orderId}::uuid AND status = ${move.from}::"ReservationStatus"
    ORDER BY product_id FOR UPDATE`;
  const reason = `order ${orderId} ${move.reason}`;
  for (const reservation of reservations) {
    const delta = move.onHand * reservation.quantity;
    // One statement: the stock row and, for every change of on hand (not only the manual ones),
    // its line in the audit trail.
    const [row] = await db.$queryRaw<InventoryItem[]>`
      WITH item AS (
        UPDATE inventory_items
        SET on_hand = on_hand + ${delta}, reserved = reserved + ${move.reserved * reservation.quantity}, updated_at = now()
        WHERE product_id = ${reservation.productId}::uuid
        RETURNING product_id, on_hand, reserved, updated_at
      ), audit AS (
        INSERT INTO inventory_adjustments (id, product_id, delta, reason, on_hand_after, created_at)
        SELECT gen_random_uuid(), product_id, ${delta}, ${reason}, on_hand, now() FROM item WHERE ${delta} <> 0
      )
      SELECT product_id::text AS "productId", on_hand AS "onHand", reserved, updated_at AS "updatedAt" FROM item`;
    emit('inventory.stock-changed', {
      stock: {
        productId: row!.productId,
        onHand: row!.onHand,
        reserved: row!.reserved,
        available: availableUnits(row!),
        updatedAt: row!.updatedAt.toISOString(),
      },
      reason,
    });
  }
  if (reservations.length > 0) {
    await db.$executeRaw`
      UPDATE reservations SET status = ${move.to}::"ReservationStatus", updated_at = now()
      WHERE id = ANY(${reservations.map((r) => r.id)}::uuid[])`;
  }
}

/**
 * Moves a locked order to `to`, with every consequence in the same transaction: its stock, the
 * timestamp of the new state, and the order.status-changed event (for the customer's email).
 */
export async function moveOrder(order: LockedOrder, to: OrderStatus, context: HandlerContext): Promise<mart.order.Order.$Properties> {
  if (!canMoveOrder(order.status, to)) {
    throw new InvalidStateError(`Order ${order.id} is ${order.status}; it cannot become ${to}`, [
      { path: 'status', message: order.status },
    ]);
  }
  const stock = stockFollows[to];
  if (stock) await moveStock(order.id, stock, context);
  const stamp = to === OrderStatus.PENDING_PAYMENT ? Prisma.empty : Prisma.sql`, ${Prisma.raw(enteredAt[to])} = ${context.now}`;
  // The update, the order's lines and its customer's email: one statement.
  const [row] = await context.read<OrderRow & { customerEmail: string }>(Prisma.sql`
    WITH moved AS (
      UPDATE orders SET status = ${to}::"OrderStatus", updated_at = ${context.now} ${stamp} WHERE id = ${order.id}::uuid RETURNING *
    )
    SELECT ${orderRowColumns('moved')}, c.email AS "customerEmail" FROM moved JOIN customers c ON c.id = moved.customer_id`);
  const moved = toOrder(row!);
  context.emit('order.status-changed', { order: moved, from: orderStatus.toWire(order.status), customerEmail: row!.customerEmail });
  queueEmail(context, orderStatusEmail({ order: moved, customerEmail: row!.customerEmail }));
  return moved;
}
