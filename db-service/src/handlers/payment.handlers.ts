import { ConflictError, InvalidStateError, NotFoundError, ValidationError } from '@mart/common';
import { mart } from '@mart/proto';
import type { Payment, PaymentProvider, PaymentStatus, Prisma } from '../generated/prisma/client.ts';
import type { Db } from '../database.ts';
import { pageWindow, type Handlers } from '../handler.ts';

const Status = mart.payment.PaymentStatus;
const Provider = mart.payment.PaymentProvider;

const statusFromProto: Record<mart.payment.PaymentStatus, PaymentStatus | undefined> = {
  [Status.PAYMENT_STATUS_UNSPECIFIED]: undefined,
  [Status.PAYMENT_STATUS_REQUIRES_PAYMENT]: 'REQUIRES_PAYMENT',
  [Status.PAYMENT_STATUS_PROCESSING]: 'PROCESSING',
  [Status.PAYMENT_STATUS_SUCCEEDED]: 'SUCCEEDED',
  [Status.PAYMENT_STATUS_FAILED]: 'FAILED',
  [Status.PAYMENT_STATUS_REFUNDED]: 'REFUNDED',
};

const statusToProto: Record<PaymentStatus, mart.payment.PaymentStatus> = {
  REQUIRES_PAYMENT: Status.PAYMENT_STATUS_REQUIRES_PAYMENT,
  PROCESSING: Status.PAYMENT_STATUS_PROCESSING,
  SUCCEEDED: Status.PAYMENT_STATUS_SUCCEEDED,
  FAILED: Status.PAYMENT_STATUS_FAILED,
  REFUNDED: Status.PAYMENT_STATUS_REFUNDED,
};

const providerFromProto: Record<mart.payment.PaymentProvider, PaymentProvider | undefined> = {
  [Provider.PAYMENT_PROVIDER_UNSPECIFIED]: undefined,
  [Provider.PAYMENT_PROVIDER_STRIPE]: 'STRIPE',
  [Provider.PAYMENT_PROVIDER_SIMULATED]: 'SIMULATED',
};

const providerToProto: Record<PaymentProvider, mart.payment.PaymentProvider> = {
  STRIPE: Provider.PAYMENT_PROVIDER_STRIPE,
  SIMULATED: Provider.PAYMENT_PROVIDER_SIMULATED,
};

/**
 * Where a payment may go from each status. Provider outcomes can arrive late or out of order
 * (a webhook for an earlier attempt after a later success): a move not listed here is stale and
 * changes nothing. FAILED can still succeed: a provider error may hide a charge that went through.
 */
const nextStatuses: Record<PaymentStatus, readonly PaymentStatus[]> = {
  REQUIRES_PAYMENT: ['PROCESSING', 'SUCCEEDED', 'FAILED'],
  PROCESSING: ['REQUIRES_PAYMENT', 'SUCCEEDED', 'FAILED'],
  FAILED: ['PROCESSING', 'SUCCEEDED'],
  SUCCEEDED: ['REFUNDED'],
  REFUNDED: [],
};

function canMove(from: PaymentStatus, to: PaymentStatus): boolean {
  return nextStatuses[from].includes(to);
}

type PaymentWithOwner = Payment & { order: { customerId: string } };
const withOwner = { order: { select: { customerId: true } } } as const;

function toPayment(row: PaymentWithOwner): mart.payment.Payment.$Properties {
  return {
    id: row.id,
    orderId: row.orderId,
    customerId: row.order.customerId,
    amountCents: row.amountCents,
    currency: row.currency,
    provider: providerToProto[row.provider],
    status: statusToProto[row.status],
    providerPaymentId: row.providerPaymentId,
    failureReason: row.failureReason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Locks the payment named by id (or else by the provider's id) for the rest of the transaction. */
async function lockPayment(db: Db, input: { id?: string | null; providerPaymentId?: string | null }): Promise<PaymentWithOwner> {
  const [locked] = input.id
    ? await db.$queryRaw<{ id: string }[]>`SELECT id FROM payments WHERE id = ${input.id}::uuid FOR UPDATE`
    : input.providerPaymentId
      ? await db.$queryRaw<{ id: string }[]>`SELECT id FROM payments WHERE provider_payment_id = ${input.providerPaymentId} FOR UPDATE`
      : [];
  if (!locked) throw new NotFoundError(`Payment ${input.id ?? input.providerPaymentId ?? ''} not found`);
  return db.payment.findUniqueOrThrow({ where: { id: locked.id }, include: withOwner });
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
    const provider = providerFromProto[input.provider];
    if (!provider) throw new ValidationError([{ path: 'provider', message: 'is required' }]);
    // The order row lock makes concurrent attempts for one order take turns, so the check below
    // sees every earlier attempt: at most one payment is ever in flight or succeeded.
    const [order] = await db.$queryRaw<{ customerId: string; status: string; totalCents: number; currency: string; expiresAt: Date }[]>`
      SELECT customer_id AS "customerId", status::text AS status, total_cents AS "totalCents", currency, expires_at AS "expiresAt"
      FROM orders WHERE id = ${input.orderId}::uuid FOR UPDATE`;
    if (!order || order.customerId !== input.customerId) throw new NotFoundError(`Order ${input.orderId} not found`);
    if (order.status === 'PAID') throw new ConflictError(`Order ${input.orderId} is already paid`);
    if (order.status !== 'PENDING_PAYMENT') throw new InvalidStateError(`Order ${input.orderId} is ${order.status} and cannot be paid`);
    if (order.expiresAt <= now) throw new InvalidStateError(`Order ${input.orderId} has expired`);

    const active = await db.payment.findFirst({ where: { orderId: input.orderId, status: { in: ['SUCCEEDED', 'PROCESSING'] } } });
    if (active?.status === 'SUCCEEDED') throw new ConflictError(`Order ${input.orderId} is already paid (payment ${active.id})`);
    if (active) throw new ConflictError(`Payment ${active.id} for order ${input.orderId} is still processing`);

    const row = await db.payment.create({
      data: {
        id: input.id,
        orderId: input.orderId,
        amountCents: order.totalCents,
        currency: order.currency,
        provider,
        status: input.confirmNow ? 'PROCESSING' : 'REQUIRES_PAYMENT',
      },
      include: withOwner,
    });
    return toPayment(row);
  },

  'payment.attach-provider-payment': async (input, { db }) => {
    const row = await lockPayment(db, { id: input.id });
    const providerPaymentId = checkedProviderPaymentId(row, input.providerPaymentId);
    if (!providerPaymentId) return toPayment(row);
    return toPayment(await db.payment.update({ where: { id: row.id }, data: { providerPaymentId }, include: withOwner }));
  },

  'payment.record-outcome': async (input, { db, emit }) => {
    const status = statusFromProto[input.status];
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
    if (!canMove(row.status, status)) {
      if (!providerPaymentId) return toPayment(row);
      return toPayment(await db.payment.update({ where: { id: row.id }, data: { providerPaymentId }, include: withOwner }));
    }
    const data: Prisma.PaymentUpdateInput = {
      status,
      failureReason: status === 'FAILED' ? input.failureReason || 'payment failed' : status === 'SUCCEEDED' ? null : row.failureReason,
      ...(providerPaymentId ? { providerPaymentId } : {}),
    };
    const updated = toPayment(await db.payment.update({ where: { id: row.id }, data, include: withOwner }));
    emit('payment.status-changed', { payment: updated, from: statusToProto[row.status] });
    return updated;
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
