import { maxCents } from '@mart/common/domain/money';
import { orderLimits, requestedOrderStatuses, type RequestedOrderStatus } from '@mart/common/domain/order';
import { ConflictError, InsufficientStockError, NotFoundError, ValidationError, type ErrorDetail } from '@mart/common/errors';
import { uuidPattern } from '@mart/common/ids';
import type { mart } from '@mart/proto';
import { orderStatus } from '@mart/proto/enums';
import type { Db } from '../database.ts';
import { OrderStatus, Prisma, type Order } from '../generated/prisma/client.ts';
import { orderPlacedEmail } from '../emails.ts';
import { pageWindow, type Handlers } from '../handler.ts';
import { queueEmail } from './notification.handlers.ts';
import { lockOrder, moveOrder, orderRowColumns, toOrder, withItems, type Address, type OrderRow } from './order.states.ts';

function fromProtoStatus(status: mart.order.OrderStatus, path: string): OrderStatus {
  const found = orderStatus.fromWire(status);
  if (!found) throw new ValidationError([{ path, message: 'is not an order status' }]);
  return found;
}

function isRequested(status: OrderStatus): status is RequestedOrderStatus {
  return (requestedOrderStatuses as readonly OrderStatus[]).includes(status);
}

// Placing an order, as named steps.

interface Line {
  /** Position in the request, so every error names the line the client sent. */
  index: number;
  productId: string;
  quantity: number;
}

function checkedLines(lines: mart.order.OrderLine.$Properties[]): Line[] {
  if (lines.length < 1 || lines.length > orderLimits.lines) {
    throw new ValidationError([{ path: 'items', message: `must have 1 to ${orderLimits.lines} lines` }]);
  }
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  const checked = lines.map((line, index) => {
    const productId = (line.productId ?? '').toLowerCase();
    const quantity = Number(line.quantity ?? 0);
    if (!uuidPattern.test(productId)) details.push({ path: `items.${index}.productId`, message: 'is not a product id' });
    else if (seen.has(productId)) details.push({ path: `items.${index}.productId`, message: 'appears in an earlier line' });
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > orderLimits.quantity) {
      details.push({ path: `items.${index}.quantity`, message: `must be an integer from 1 to ${orderLimits.quantity}` });
    }
    seen.add(productId);
    return { index, productId, quantity };
  });
  if (details.length > 0) throw new ValidationError(details);
  return checked;
}

function checkedAddress(address: mart.order.Address.$Properties | null | undefined): Address {
  const details: ErrorDetail[] = [];
  const required = (field: 'line1' | 'city' | 'postalCode' | 'country') => {
    const value = (address?.[field] ?? '').trim();
    if (!value) details.push({ path: `shippingAddress.${field}`, message: 'is required' });
    return value;
  };
  const checked: Address = {
    line1: required('line1'),
    city: required('city'),
    postalCode: required('postalCode'),
    country: required('country'),
  };
  if (address?.line2?.trim()) checked.line2 = address.line2.trim();
  if (details.length > 0) throw new ValidationError(details);
  return checked;
}

/** A repeated Idempotency-Key must describe the same order; anything else is a client bug. */
function sameRequest(order: OrderRow, lines: Line[], address: Address): boolean {
  const key = (items: { productId: string; quantity: number }[]) =>
    items
      .map((item) => `${item.productId}:${item.quantity}`)
      .sort()
      .join(',');
  const stored = order.shippingAddress as unknown as Address;
  const addressKey = (a: Address) => JSON.stringify([a.line1, a.line2 ?? '', a.city, a.postalCode, a.country]);
  return key(order.items) === key(lines) && addressKey(stored) === addressKey(address);
}

async function earlierOrder(db: Db, customerId: string, idempotencyKey: string): Promise<OrderRow | null> {
  // Two requests with one key wait for each other here, so the second sees the first's order.
  await db.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${customerId}:${idempotencyKey}`}, 0))`;
  return db.order.findUnique({ where: { customerId_idempotencyKey: { customerId, idempotencyKey } }, include: withItems });
}

/** Catalog prices and names for each line; unknown or inactive products are the client's mistake. */
async function pricedLines(db: Db, lines: Line[]) {
  const products = await db.product.findMany({
    where: { id: { in: lines.map((line) => line.productId) }, active: true },
    select: { id: true, sku: true, name: true, priceCents: true, currency: true },
  });
  const byId = new Map(products.map((product) => [product.id, product]));
  const missing = lines.filter((line) => !byId.has(line.productId));
  if (missing.length > 0) {
    throw new ValidationError(missing.map((line) => ({ path: `items.${line.index}.productId`, message: 'no such product' })));
  }
  const priced = lines.map((line) => ({ ...line, product: byId.get(line.productId)! }));
  const currency = priced[0]!.product.currency;
  const foreign = priced.filter((line) => line.product.currency !== currency);
  if (foreign.length > 0) {
    throw new ValidationError(
      foreign.map((line) => ({
        path: `items.${line.index}.productId`,
        message: `is priced in ${line.product.currency}; this order is in ${currency}`,
      })),
    );
  }
  const totalCents = priced.reduce((sum, line) => sum + line.product.priceCents * line.quantity, 0);
  if (totalCents > maxCents) throw new ValidationError([{ path: 'items', message: `the order total exceeds ${maxCents} cents` }]);
  return { lines: priced, currency, totalCents };
}

/**
 * Reserves every line or none (the transaction rolls back on error). Rows are locked in product
 * id order so two orders for the same products cannot deadlock; the conditional update is what
 * makes overselling impossible: a row only changes while enough units are available.
 */
async function reserveStock(db: Db, lines: Line[]): Promise<void> {
  const short: Line[] = [];
  for (const line of [...lines].sort((a, b) => (a.productId < b.productId ? -1 : 1))) {
    const reserved = await db.$executeRaw`
      UPDATE inventory_items SET reserved = reserved + ${line.quantity}, updated_at = now()
      WHERE product_id = ${line.productId}::uuid AND on_hand - reserved >= ${line.quantity}`;
    if (reserved === 0) short.push(line);
  }
  if (short.length > 0) {
    throw new InsufficientStockError(
      'Not enough stock for every line',
      short.sort((a, b) => a.index - b.index).map((line) => ({ path: `items.${line.index}.productId`, message: line.productId })),
    );
  }
}

async function customerEmail(db: Db, customerId: string): Promise<string> {
  const customer = uuidPattern.test(customerId)
    ? await db.customer.findUnique({ where: { id: customerId }, select: { email: true } })
    : null;
  if (!customer) throw new NotFoundError(`Customer ${customerId} not found`);
  return customer.email;
}

export const orderHandlers: Handlers = {
  'order.place': async (input, context) => {
    const { db, emit, now, expireOrdersAt } = context;
    const lines = checkedLines(input.lines);
    const address = checkedAddress(input.shippingAddress);
    const ttlSeconds = Number(input.ttlSeconds);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > orderLimits.ttlSeconds) {
      throw new ValidationError([{ path: 'ttlSeconds', message: `must be 1 to ${orderLimits.ttlSeconds}` }]);
    }
    const idempotencyKey = input.idempotencyKey || null;
    if (idempotencyKey && idempotencyKey.length > orderLimits.idempotencyKey) {
      throw new ValidationError([{ path: 'idempotencyKey', message: `must be at most ${orderLimits.idempotencyKey} characters` }]);
    }
    const email = await customerEmail(db, input.customerId);

    if (idempotencyKey) {
      const earlier = await earlierOrder(db, input.customerId, idempotencyKey);
      if (earlier && !sameRequest(earlier, lines, address)) {
        throw new ConflictError('This Idempotency-Key was already used for a different order', [
          { path: 'Idempotency-Key', message: 'already used for a different order' },
        ]);
      }
      // The same request again: the same order, and no second reservation.
      if (earlier) return toOrder(earlier);
    }

    const priced = await pricedLines(db, lines);
    await reserveStock(db, lines);
    const items = priced.lines
      .map((line) => ({
        productId: line.productId,
        sku: line.product.sku,
        name: line.product.name,
        quantity: line.quantity,
        unitPriceCents: line.product.priceCents,
      }))
      .sort((a, b) => (a.productId < b.productId ? -1 : 1));
    // One statement writes the order, its lines and its reservations, and the reply is built from
    // what was written: no reading back inside the transaction.
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000); // one clock: createdAt + the hold time
    const productIds = items.map((item) => item.productId);
    const quantities = items.map((item) => item.quantity);
    await db.$executeRaw`
      WITH placed AS (
        INSERT INTO orders (id, customer_id, status, total_cents, currency, shipping_address, idempotency_key, expires_at, created_at, updated_at)
        VALUES (${input.id}::uuid, ${input.customerId}::uuid, 'PENDING_PAYMENT', ${priced.totalCents}, ${priced.currency},
                ${JSON.stringify(address)}::jsonb, ${idempotencyKey}, ${expiresAt}, ${now}, ${now})
        RETURNING id
      ), lines AS (
        INSERT INTO order_items (id, order_id, product_id, sku, name, quantity, unit_price_cents)
        SELECT gen_random_uuid(), placed.id, line.product_id, line.sku, line.name, line.quantity, line.unit_price_cents
        FROM placed, unnest(${productIds}::uuid[], ${items.map((item) => item.sku)}::text[], ${items.map((item) => item.name)}::text[],
                            ${quantities}::int[], ${items.map((item) => item.unitPriceCents)}::int[])
             AS line(product_id, sku, name, quantity, unit_price_cents)
      )
      INSERT INTO reservations (id, order_id, product_id, quantity, status, created_at, updated_at)
      SELECT gen_random_uuid(), placed.id, line.product_id, line.quantity, 'RESERVED', ${now}, ${now}
      FROM placed, unnest(${productIds}::uuid[], ${quantities}::int[]) AS line(product_id, quantity)`;
    const row: Order = {
      id: input.id,
      customerId: input.customerId,
      status: OrderStatus.PENDING_PAYMENT,
      totalCents: priced.totalCents,
      currency: priced.currency,
      shippingAddress: { ...address },
      idempotencyKey,
      expiresAt,
      paidAt: null,
      shippedAt: null,
      deliveredAt: null,
      cancelledAt: null,
      refundedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    const order = toOrder({ ...row, items });
    emit('order.placed', { order, customerEmail: email });
    queueEmail(context, orderPlacedEmail({ order, customerEmail: email }));
    expireOrdersAt(row.expiresAt);
    return order;
  },

  'order.get': async (input, { read }) => {
    // Read after every checkout: in plain SQL, past Prisma, like product.get.
    const [row] = uuidPattern.test(input.id)
      ? await read<OrderRow>(Prisma.sql`SELECT ${orderRowColumns('o')} FROM orders o WHERE o.id = ${input.id}::uuid`)
      : [];
    // Another customer's order does not exist for this caller: never leak that it does.
    if (!row || (input.customerId && row.customerId !== input.customerId)) throw new NotFoundError(`Order ${input.id} not found`);
    return toOrder(row);
  },

  'order.list': async (input, { db }) => {
    const window = pageWindow(input.page);
    const where: Prisma.OrderWhereInput = {};
    if (input.customerId) {
      if (!uuidPattern.test(input.customerId)) throw new ValidationError([{ path: 'customerId', message: 'is not a customer id' }]);
      where.customerId = input.customerId;
    }
    if (input.status) where.status = fromProtoStatus(input.status, 'status');
    const [rows, total] = await Promise.all([
      db.order.findMany({
        where,
        include: withItems,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        skip: window.skip,
        take: window.take,
      }),
      db.order.count({ where }),
    ]);
    return { items: rows.map(toOrder), page: { page: window.page, pageSize: window.pageSize, total } };
  },

  'order.transition': async (input, context) => {
    const to = fromProtoStatus(input.to, 'to');
    if (!isRequested(to)) throw new ValidationError([{ path: 'to', message: `must be one of ${requestedOrderStatuses.join(', ')}` }]);
    const current = uuidPattern.test(input.id) ? await lockOrder(context.db, input.id) : undefined;
    if (!current || (input.customerId && current.customerId !== input.customerId)) throw new NotFoundError(`Order ${input.id} not found`);
    // Already there: a repeated click is a success that changes nothing.
    if (current.status === to) return toOrder(await context.db.order.findUniqueOrThrow({ where: { id: input.id }, include: withItems }));
    return moveOrder(current, to, context);
  },
};
