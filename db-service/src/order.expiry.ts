import { randomUUID } from 'node:crypto';
import { Alarm, type Clock } from '@mart/common/alarm';
import type { Logger } from '@mart/common/logger';
import { mutationContext, writeClaimAndOutbox } from './command.executor.ts';
import type { PrismaClient } from './database.ts';
import type { HandlerSettings } from './handler.ts';
import { OrderStatus } from './generated/prisma/client.ts';
import { moveOrder, type LockedOrder } from './handlers/order.states.ts';

/** Orders cancelled per transaction, so one run never holds many row locks for long. */
export const expiryBatchSize = 100;
/** An expired order locked by someone else (being paid right now) is looked at again this much later. */
const lockedRetryMs = 1000;

/**
 * Cancels unpaid orders when their hold ends and releases their stock, in the same kind of
 * transaction as any command (the order and its stock change together, the emails follow from
 * the outbox). Returns when the next pending order expires, or null when none is pending.
 */
export async function expireDueOrders(prisma: PrismaClient, settings: HandlerSettings, now: Date): Promise<Date | null> {
  for (;;) {
    const expired = await prisma.$transaction(async (tx) => {
      // SKIP LOCKED: an order being paid or cancelled right now is left for the next run.
      const due = await tx.$queryRaw<LockedOrder[]>`
        SELECT id::text AS id, status::text AS status, customer_id::text AS "customerId" FROM orders
        WHERE status = 'PENDING_PAYMENT' AND expires_at <= ${now}
        ORDER BY expires_at LIMIT ${expiryBatchSize}
        FOR UPDATE SKIP LOCKED`;
      const { context, written } = mutationContext(
        tx,
        { commandId: randomUUID(), requestId: undefined, deadline: Number.POSITIVE_INFINITY },
        settings,
      );
      for (const order of due) await moveOrder(order, OrderStatus.CANCELLED, { ...context, now });
      await writeClaimAndOutbox(tx, written);
      return due.length;
    });
    if (expired < expiryBatchSize) break;
  }
  const [next] = await prisma.$queryRaw<{ at: Date | null }[]>`
    SELECT min(expires_at) AS at FROM orders WHERE status = 'PENDING_PAYMENT'`;
  const at = next?.at ?? null;
  return at && at <= now ? new Date(now.getTime() + lockedRetryMs) : at;
}

/**
 * The expiry as db-service's own timed work: woken at the earliest expiresAt of a pending order,
 * at start, after a commit placed an order, and when the instance's share of the command
 * partitions changes (an instance that stopped may have been the one waiting for an order).
 */
export function orderExpiryAlarm(options: { prisma: PrismaClient; settings: HandlerSettings; logger: Logger; clock?: Clock }): Alarm {
  const clock = options.clock;
  return new Alarm({
    name: 'order-expiry',
    logger: options.logger,
    ...(clock ? { clock } : {}),
    work: () => expireDueOrders(options.prisma, options.settings, new Date(clock?.now() ?? Date.now())),
  });
}
