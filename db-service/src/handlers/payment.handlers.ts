import { randomUUID } from 'node:crypto';
import { canMoveOrder } from '@mart/common/domain/order';
import { canMovePayment, canMoveRefund } from '@mart/common/domain/payment';
import { ConflictError, InvalidStateError, NotFoundError, ValidationError } from '@mart/common/errors';
import type { mart } from '@mart/proto';
import { paymentProvider, paymentStatus, refundStatus } from '@mart/proto/enums';
import { OrderStatus, type Payment, Prisma, type Refund } from '../generated/prisma/client.ts';
import type { Db } from '../database.ts';
import { pageWindow, type HandlerContext, type Handlers } from '../handler.ts';
import { lockOrder, moveOrder } from './order.states.ts';

type PaymentWithOwner = Payment & { order: { customerId: string }; refunds: Refund[] };
const withOwner = {
  order: { select: { customerId: true } },
  refunds: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
} satisfies Prisma.PaymentInclude;

function toRefund(row: Refund): mart.payment.Refund.$Properties {
  return {
    id: row.id,
    paymentId: row.paymentId,
    amountCents: row.amountCents,
    reason: row.reason,
    status: refundStatus.toWire(row.status),
    providerRefundId: row.providerRefundId,
    failureReason: row.failureReason,
    actorId: row.actorId ?? '',
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toPayment(row: PaymentWithOwner): mart.payment.Payment.$Properties {
  return {
    id: row.id,
    orderId: row.orderId,
    customerId: row.order.customerId,
    amountCents: row.amountCents,
    currency: row.currency,
    provider: paymentProvider.toWire(row.provider),
    status: paymentStatus.toWire(row.status),
    providerPaymentId: row.providerPaymentId,
    failureReason: row.failureReason,
    refundedCents: row.refundedCents,
    refunds: row.refunds.map(toRefund),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * Records money to give back as a PENDING refund. Asked for by db-service itself, the
 * refund-requested event has payment-service settle it with the provider.
 */
async function openRefund(
  db: Db,
  payment: PaymentWithOwner,
  request: { id: string; amountCents: number; reason: string; actorId?: string | null },
): Promise<Refund> {
  return db.refund.create({
    data: {
      id: request.id,
      paymentId: payment.id,
      amountCents: request.amountCents,
      reason: request.reason,
      actorId: request.actorId || null,
    },
  });
}

/**
 * What a payment that just succeeded does to its order, in the same transaction: an unpaid order
 * becomes PAID (and its stock is committed). An order that can no longer be paid (cancelled,
 * expired, or paid by another payment) gets its money back instead.
 */
async function settleOrder(payment: PaymentWithOwner, context: HandlerContext): Promise<PaymentWithOwner> {
  const order = await lockOrder(context.db, payment.orderId);
  if (!order) throw new NotFoundError(`Order ${payment.orderId} not found`);
  if (canMoveOrder(order.status, OrderStatus.PAID)) {
    await moveOrder(order, OrderStatus.PAID, context);
    return payment;
  }
  const refund = await openRefund(context.db, payment, {
    id: randomUUID(),
    amountCents: payment.amountCents - payment.refundedCents,
    reason: `order ${order.id} was ${order.status} when this payment succeeded`,
  });
  const current = await context.db.payment.findUniqueOrThrow({ where: { id: payment.id }, include: withOwner });
  context.emit('payment.refund-requested', { payment: toPayment(current), refund: toRefund(refund) });
  return current;
}

/** A fully refunded payment's order is REFUNDED and its stock returns, unless it already shipped or was never paid. */
async function orderRefunded(payment: PaymentWithOwner, context: HandlerContext): Promise<void> {
  const order = await lockOrder(context.db, payment.orderId);
  if (order && canMoveOrder(order.status, OrderStatus.REFUNDED)) await moveOrder(order, OrderStatus.REFUNDED, context);
}

/**
 * Locks the payment named by id (or else by the provider's id) for the rest of the transaction,
 * and reads it with its owner and refunds in the same statement: Prisma cannot lock a row, and
 * a lock followed by a read was two round trips on every payment change.
 */
async function lockPayment(db: Db, input: { id?: string | null; providerPaymentId?: string | null }): Promise<PaymentWithOwner> {
  const where = input.id
    ? Prisma.sql`p.id = ${input.id}::uuid`
    : input.providerPaymentId
      ? Prisma.sql`p.provider_payment_id = ${input.providerPaymentId}`
      : undefined;
  const [row] = where
    ? await db.$queryRaw<(Payment & { customerId: string; refunds: RefundJson[] })[]>`
        SELECT p.id::text AS id, p.order_id::text AS "orderId", p.amount_cents AS "amountCents", p.currency,
               p.provider::text AS provider, p.provider_payment_id AS "providerPaymentId", p.status::text AS status,
               p.failure_reason AS "failureReason", p.refunded_cents AS "refundedCents", p.created_at AS "createdAt",
               p.updated_at AS "updatedAt", o.customer_id::text AS "customerId",
               COALESCE((SELECT json_agg(json_build_object(
                   'id', r.id, 'paymentId', r.payment_id, 'amountCents', r.amount_cents, 'reason', r.reason, 'status', r.status,
                   'providerRefundId', r.provider_refund_id, 'failureReason', r.failure_reason, 'actorId', r.actor_id,
                   'createdAt', r.created_at, 'updatedAt', r.updated_at) ORDER BY r.created_at, r.id)
                 FROM refunds r WHERE r.payment_id = p.id), '[]'::json) AS refunds
        FROM payments p JOIN orders o ON o.id = p.order_id
        WHERE ${where} FOR UPDATE OF p`
    : [];
  if (!row) throw new NotFoundError(`Payment ${input.id ?? input.providerPaymentId ?? ''} not found`);
  const { customerId, refunds, ...payment } = row;
  return {
    ...payment,
    order: { customerId },
    refunds: refunds.map((refund) => ({ ...refund, createdAt: new Date(refund.createdAt), updatedAt: new Date(refund.updatedAt) })),
  };
}

/** A refund as json_build_object gives it: timestamps are strings. */
type RefundJson = Omit<Refund, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

/** The payment after `update` (one UPDATE … RETURNING); its owner and refunds are unchanged by it. */
async function updatePayment(db: Db, locked: PaymentWithOwner, data: Prisma.PaymentUpdateInput): Promise<PaymentWithOwner> {
  const updated = await db.payment.update({ where: { id: locked.id }, data });
  return { ...updated, order: locked.order, refunds: locked.refunds };
}

function checkedProviderPaymentId(row: Payment, providerPaymentId: string | null | undefined): string | undefined {
  if (!providerPaymentId) return undefined;
  if (row.providerPaymentId && row.providerPaymentId !== providerPaymentId) {
    throw new ConflictError(`Payment ${row.id} belongs to provider payment ${row.providerPaymentId}, not ${providerPaymentId}`);
  }
  return row.providerPaymentId ? undefined : providerPaymentId;
}

export const paymentHandlers: Handlers = {
  'payment.create': async (input, { db, now }) => {
    const provider = paymentProvider.fromWire(input.provider);
    if (!provider) throw new ValidationError([{ path: 'provider', message: 'is required' }]);
    // The order row lock makes concurrent attempts for one order take turns, so the payment read
    // with it sees every earlier attempt: at most one payment is ever in flight or succeeded.
    const [order] = await db.$queryRaw<
      {
        customerId: string;
        status: OrderStatus;
        totalCents: number;
        currency: string;
        expiresAt: Date;
        activeId: string | null;
        activeStatus: string | null;
      }[]
    >`
      SELECT o.customer_id::text AS "customerId", o.status::text AS status, o.total_cents AS "totalCents", o.currency,
             o.expires_at AS "expiresAt", active.id::text AS "activeId", active.status::text AS "activeStatus"
      FROM orders o
      LEFT JOIN LATERAL (
        SELECT p.id, p.status FROM payments p
        WHERE p.order_id = o.id AND p.status IN ('SUCCEEDED', 'PROCESSING') ORDER BY p.status = 'SUCCEEDED' DESC LIMIT 1
      ) active ON true
      WHERE o.id = ${input.orderId}::uuid FOR UPDATE OF o`;
    if (!order || order.customerId !== input.customerId) throw new NotFoundError(`Order ${input.orderId} not found`);
    if (order.status === 'PAID') throw new ConflictError(`Order ${input.orderId} is already paid`);
    if (!canMoveOrder(order.status, 'PAID')) throw new InvalidStateError(`Order ${input.orderId} is ${order.status} and cannot be paid`);
    if (order.expiresAt <= now) throw new InvalidStateError(`Order ${input.orderId} has expired`);
    if (order.activeStatus === 'SUCCEEDED') throw new ConflictError(`Order ${input.orderId} is already paid (payment ${order.activeId})`);
    if (order.activeId) throw new ConflictError(`Payment ${order.activeId} for order ${input.orderId} is still processing`);

    const row = await db.payment.create({
      data: {
        id: input.id,
        orderId: input.orderId,
        amountCents: order.totalCents,
        currency: order.currency,
        provider,
        status: input.confirmNow ? 'PROCESSING' : 'REQUIRES_PAYMENT',
      },
    });
    return toPayment({ ...row, order: { customerId: order.customerId }, refunds: [] });
  },

  'payment.attach-provider-payment': async (input, { db }) => {
    const row = await lockPayment(db, { id: input.id });
    const providerPaymentId = checkedProviderPaymentId(row, input.providerPaymentId);
    if (!providerPaymentId) return toPayment(row);
    return toPayment(await updatePayment(db, row, { providerPaymentId }));
  },

  'payment.record-outcome': async (input, context) => {
    const { db, emit } = context;
    const status = paymentStatus.fromWire(input.status);
    if (!status) throw new ValidationError([{ path: 'status', message: 'is required' }]);
    const row = await lockPayment(db, input);
    if (input.webhookEventId) {
      // Same transaction as the change: a redelivered webhook finds its id and changes nothing.
      const first = await db.$executeRaw`
        INSERT INTO processed_webhook_events (id, type, received_at)
        VALUES (${input.webhookEventId}, ${input.webhookEventType ?? ''}, now())
        ON CONFLICT (id) DO NOTHING`;
      if (first === 0) return toPayment(row);
    }
    const providerPaymentId = checkedProviderPaymentId(row, input.providerPaymentId);
    // The synchronous confirmation and the webhook both report one outcome: whichever comes
    // second finds the status already set (or moved on) and changes nothing, emitting nothing.
    if (!canMovePayment(row.status, status)) {
      if (!providerPaymentId) return toPayment(row);
      return toPayment(await updatePayment(db, row, { providerPaymentId }));
    }
    const data: Prisma.PaymentUpdateInput = {
      status,
      failureReason: status === 'FAILED' ? input.failureReason || 'payment failed' : status === 'SUCCEEDED' ? null : row.failureReason,
      ...(status === 'REFUNDED' ? { refundedCents: row.amountCents } : {}),
      ...(providerPaymentId ? { providerPaymentId } : {}),
    };
    const updated = await updatePayment(db, row, data);
    emit('payment.status-changed', { payment: toPayment(updated), from: paymentStatus.toWire(row.status) });
    // Settling may open a refund, and then returns the payment as it is now.
    if (status === 'SUCCEEDED') return toPayment(await settleOrder(updated, context));
    if (status === 'REFUNDED') await orderRefunded(updated, context);
    return toPayment(updated);
  },

  'payment.request-refund': async (input, { db }) => {
    const payment = await lockPayment(db, { id: input.paymentId });
    const pending = payment.refunds.find((refund) => refund.status === 'PENDING');
    // An earlier request that was never settled (the caller stopped half-way) is settled now, not doubled.
    if (pending) return { payment: toPayment(payment), refund: toRefund(pending) };
    if (payment.status !== 'SUCCEEDED') {
      throw new InvalidStateError(`Payment ${payment.id} is ${payment.status}; only a succeeded payment can be refunded`);
    }
    const remaining = payment.amountCents - payment.refundedCents;
    const amountCents = input.amountCents ?? remaining;
    if (!Number.isInteger(amountCents) || amountCents < 1)
      throw new ValidationError([{ path: 'amountCents', message: 'must be a positive integer' }]);
    if (amountCents > remaining) {
      throw new ConflictError(`Only ${remaining} of ${payment.amountCents} cents remain to be refunded`, [
        { path: 'amountCents', message: `must be at most ${remaining}` },
      ]);
    }
    const reason = input.reason.trim() || 'refund requested by staff';
    const refund = await openRefund(db, payment, { id: input.refundId, amountCents, reason, actorId: input.actorId });
    const current = await db.payment.findUniqueOrThrow({ where: { id: payment.id }, include: withOwner });
    return { payment: toPayment(current), refund: toRefund(refund) };
  },

  'payment.record-refund': async (input, context) => {
    const { db, emit } = context;
    const [locked] = await db.$queryRaw<{ paymentId: string }[]>`
      SELECT payment_id::text AS "paymentId" FROM refunds WHERE id = ${input.refundId}::uuid FOR UPDATE`;
    if (!locked) throw new NotFoundError(`Refund ${input.refundId} not found`);
    const payment = await lockPayment(db, { id: locked.paymentId });
    const refund = payment.refunds.find((candidate) => candidate.id === input.refundId)!;
    // Settled already: a repeated answer changes nothing.
    if (!canMoveRefund(refund.status, input.succeeded ? 'SUCCEEDED' : 'FAILED')) return toPayment(payment);
    if (!input.succeeded) {
      await db.refund.update({
        where: { id: refund.id },
        data: { status: 'FAILED', failureReason: input.failureReason || 'refund failed' },
      });
      return toPayment(await db.payment.findUniqueOrThrow({ where: { id: payment.id }, include: withOwner }));
    }
    await db.refund.update({ where: { id: refund.id }, data: { status: 'SUCCEEDED', providerRefundId: input.providerRefundId || null } });
    const refundedCents = payment.refundedCents + refund.amountCents;
    const fully = refundedCents >= payment.amountCents && payment.status !== 'REFUNDED';
    const updated = await db.payment.update({
      where: { id: payment.id },
      data: { refundedCents, ...(fully ? { status: 'REFUNDED' } : {}) },
      include: withOwner,
    });
    if (fully) {
      emit('payment.status-changed', { payment: toPayment(updated), from: paymentStatus.toWire(payment.status) });
      await orderRefunded(updated, context);
    }
    return toPayment(updated);
  },

  'payment.get': async (input, { db }) => {
    const row = await db.payment.findUnique({ where: { id: input.id }, include: withOwner });
    // Another customer's payment is reported exactly like a missing one.
    if (!row || (input.customerId && row.order.customerId !== input.customerId)) throw new NotFoundError(`Payment ${input.id} not found`);
    return toPayment(row);
  },

  'payment.list': async (input, { db }) => {
    const window = pageWindow(input.page);
    const where: Prisma.PaymentWhereInput = {
      ...(input.orderId ? { orderId: input.orderId } : {}),
      ...(input.customerId ? { order: { customerId: input.customerId } } : {}),
    };
    const [rows, total] = await Promise.all([
      db.payment.findMany({
        where,
        include: withOwner,
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        skip: window.skip,
        take: window.take,
      }),
      db.payment.count({ where }),
    ]);
    return { items: rows.map(toPayment), page: { page: window.page, pageSize: window.pageSize, total } };
  },
};
