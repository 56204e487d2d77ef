import { randomUUID } from 'node:crypto';
import { notificationStatusesBefore } from '@mart/common/domain/notification';
import { NotFoundError, ValidationError } from '@mart/common/errors';
import type { mart } from '@mart/proto';
import { notificationStatus } from '@mart/proto/enums';
import type { Notification, NotificationStatus, Prisma } from '../generated/prisma/client.ts';
import type { Db } from '../database.ts';
import type { EmailDraft } from '../emails.ts';
import { pageWindow, type HandlerContext, type Handlers } from '../handler.ts';

const maxLeaseSeconds = 3600;

function leaseSeconds(asked: number | null | undefined): number {
  return Math.min(maxLeaseSeconds, Math.max(1, asked || 60));
}

function toNotification(row: Notification): mart.notification.Notification.$Properties {
  return {
    id: row.id,
    type: row.type,
    to: row.to,
    subject: row.subject,
    body: row.body,
    status: notificationStatus.toWire(row.status),
    attempts: row.attempts,
    provider: row.provider,
    providerMessageId: row.providerMessageId,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * Writes an email to send in the transaction of the change it tells of, and the
 * notification.queued event that has notification-service deliver it. The row is born leased to
 * that event's consumer for the configured lease; should it never report, the retry job sends
 * the email once the lease is over. One email per type and subject: queueing it again does nothing.
 */
export function queueEmail(context: HandlerContext, email: EmailDraft | undefined): void {
  if (!email) return;
  const { now, settings } = context;
  const row: Notification = {
    id: randomUUID(),
    type: email.type,
    to: email.to.toLowerCase(),
    subject: email.subject,
    body: email.body,
    status: 'PENDING',
    attempts: 0,
    provider: null,
    providerMessageId: null,
    lastError: null,
    dedupeKey: `${email.type}:${email.about}`,
    nextAttemptAt: new Date(now.getTime() + settings.emailLeaseSeconds * 1000),
    createdAt: now,
    updatedAt: now,
  };
  // Written with the command's outbox rows, in one statement; the event only if the row is.
  context.writeEmail(row);
  context.emit('notification.queued', { notification: toNotification(row) }, { ifEmailWritten: row.id });
}

async function findOrThrow(db: Db, id: string): Promise<Notification> {
  const row = await db.notification.findUnique({ where: { id } });
  if (!row) throw new NotFoundError(`Notification ${id} not found`);
  return row;
}

export const notificationHandlers: Handlers = {
  'notification.claim': async (input, { db, now }) => {
    const leaseEnd = new Date(now.getTime() + leaseSeconds(input.leaseSeconds) * 1000);
    // Conditional update: of two senders racing for one notification, exactly one gets it.
    const claimed = await db.$executeRaw`
      UPDATE notifications SET next_attempt_at = ${leaseEnd}, updated_at = ${now}
      WHERE id = ${input.id}::uuid AND status = 'PENDING' AND (next_attempt_at IS NULL OR next_attempt_at <= ${now})`;
    return { notification: toNotification(await findOrThrow(db, input.id)), claimed: claimed > 0 };
  },

  'notification.record-attempt': async (input, { db }) => {
    let data: Prisma.NotificationUpdateManyMutationInput & { status: NotificationStatus };
    if (input.sent) {
      data = { status: 'SENT', providerMessageId: input.providerMessageId || null, nextAttemptAt: null, lastError: null };
    } else if (input.giveUp) {
      data = { status: 'FAILED', nextAttemptAt: null, lastError: input.error || 'sending failed' };
    } else {
      const next = input.nextAttemptAt ? new Date(input.nextAttemptAt) : undefined;
      if (!next || Number.isNaN(next.getTime())) {
        throw new ValidationError([{ path: 'nextAttemptAt', message: 'is required (ISO 8601) unless sent or giveUp' }]);
      }
      data = { status: 'PENDING', nextAttemptAt: next, lastError: input.error || 'sending failed' };
    }
    // One conditional UPDATE … RETURNING, from the statuses that may move there: a sent email stays
    // sent, so a late report of another attempt must not reopen it; only then (or for an unknown
    // id) is the row read.
    const [row] = await db.notification.updateManyAndReturn({
      where: { id: input.id, status: { in: notificationStatusesBefore(data.status) } },
      data: { ...data, provider: input.provider || null, attempts: { increment: 1 } },
    });
    return toNotification(row ?? (await findOrThrow(db, input.id)));
  },

  'notification.list-due': async (input, { db, now }) => {
    const rows = await db.notification.findMany({
      where: { status: 'PENDING', nextAttemptAt: { lte: now } },
      orderBy: [{ nextAttemptAt: 'asc' }, { id: 'asc' }],
      take: Math.min(100, Math.max(1, input.limit || 20)),
    });
    const next = await db.notification.findFirst({
      where: { status: 'PENDING', nextAttemptAt: { gt: now } },
      orderBy: { nextAttemptAt: 'asc' },
      select: { nextAttemptAt: true },
    });
    return { items: rows.map(toNotification), nextDueAt: next?.nextAttemptAt?.toISOString() ?? null };
  },

  'notification.list': async (input, { db }) => {
    const window = pageWindow(input.page);
    const status = notificationStatus.fromWire(input.status);
    const where: Prisma.NotificationWhereInput = {
      ...(input.to ? { to: input.to.toLowerCase() } : {}),
      ...(input.type ? { type: input.type } : {}),
      ...(status ? { status } : {}),
    };
    const [rows, total] = await Promise.all([
      db.notification.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        skip: window.skip,
        take: window.take,
      }),
      db.notification.count({ where }),
    ]);
    return { items: rows.map(toNotification), page: { page: window.page, pageSize: window.pageSize, total } };
  },
};
