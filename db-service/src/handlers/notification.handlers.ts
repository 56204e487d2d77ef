import { NotFoundError, ValidationError, type ErrorDetail } from '@mart/common';
import { mart } from '@mart/proto';
import type { Notification, NotificationStatus, Prisma } from '../generated/prisma/client.ts';
import type { Db } from '../database.ts';
import { pageWindow, type Handlers } from '../handler.ts';

const Status = mart.notification.NotificationStatus;

const statusToProto: Record<NotificationStatus, mart.notification.NotificationStatus> = {
  PENDING: Status.NOTIFICATION_STATUS_PENDING,
  SENT: Status.NOTIFICATION_STATUS_SENT,
  FAILED: Status.NOTIFICATION_STATUS_FAILED,
};

const statusFromProto: Record<mart.notification.NotificationStatus, NotificationStatus | undefined> = {
  [Status.NOTIFICATION_STATUS_UNSPECIFIED]: undefined,
  [Status.NOTIFICATION_STATUS_PENDING]: 'PENDING',
  [Status.NOTIFICATION_STATUS_SENT]: 'SENT',
  [Status.NOTIFICATION_STATUS_FAILED]: 'FAILED',
};

const emailPattern = /^[^\s@<>",]+@[^\s@<>",]+$/;
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
    status: statusToProto[row.status],
    attempts: row.attempts,
    provider: row.provider,
    providerMessageId: row.providerMessageId,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function checkEnqueue(input: mart.notification.EnqueueNotification): void {
  const details: ErrorDetail[] = [];
  if (!emailPattern.test(input.to)) details.push({ path: 'to', message: 'must be an email address' });
  for (const field of ['type', 'subject', 'provider', 'dedupeKey'] as const) {
    if (!input[field].trim()) details.push({ path: field, message: 'is required' });
  }
  if (details.length > 0) throw new ValidationError(details);
}

async function findOrThrow(db: Db, id: string): Promise<Notification> {
  const row = await db.notification.findUnique({ where: { id } });
  if (!row) throw new NotFoundError(`Notification ${id} not found`);
  return row;
}

export const notificationHandlers: Handlers = {
  'notification.enqueue': async (input, { db, now }) => {
    checkEnqueue(input);
    const leaseEnd = new Date(now.getTime() + leaseSeconds(input.leaseSeconds) * 1000);
    // ON CONFLICT rather than catching a unique violation: a failed statement would abort the
    // transaction, and a concurrent enqueue of the same key must still get the existing row.
    // A new row is born leased to the caller, which sends it at once: no separate claim.
    const inserted = await db.$executeRaw`
      INSERT INTO notifications (id, type, "to", subject, body, status, attempts, provider, dedupe_key, next_attempt_at, created_at, updated_at)
      VALUES (${input.id}::uuid, ${input.type}, ${input.to.toLowerCase()}, ${input.subject}, ${input.body}, 'PENDING', 0,
              ${input.provider}, ${input.dedupeKey}, ${leaseEnd}, ${now}, ${now})
      ON CONFLICT (dedupe_key) DO NOTHING`;
    if (inserted > 0) {
      // The row is exactly what was just written: no need to read it back.
      const row: Notification = {
        id: input.id,
        type: input.type,
        to: input.to.toLowerCase(),
        subject: input.subject,
        body: input.body,
        status: 'PENDING',
        attempts: 0,
        provider: input.provider,
        providerMessageId: null,
        lastError: null,
        dedupeKey: input.dedupeKey,
        nextAttemptAt: leaseEnd,
        createdAt: now,
        updatedAt: now,
      };
      return { notification: toNotification(row), created: true, claimed: true };
    }
    // Seen before (a redelivered event): the caller may send it only if it is still due and unleased.
    const claimed = await db.$executeRaw`
      UPDATE notifications SET next_attempt_at = ${leaseEnd}, updated_at = ${now}
      WHERE dedupe_key = ${input.dedupeKey} AND status = 'PENDING' AND (next_attempt_at IS NULL OR next_attempt_at <= ${now})`;
    const row = await db.notification.findUniqueOrThrow({ where: { dedupeKey: input.dedupeKey } });
    return { notification: toNotification(row), created: false, claimed: claimed > 0 };
  },

  'notification.claim': async (input, { db, now }) => {
    const leaseEnd = new Date(now.getTime() + leaseSeconds(input.leaseSeconds) * 1000);
    // Conditional update: of two senders racing for one notification, exactly one gets it.
    const claimed = await db.$executeRaw`
      UPDATE notifications SET next_attempt_at = ${leaseEnd}, updated_at = ${now}
      WHERE id = ${input.id}::uuid AND status = 'PENDING' AND (next_attempt_at IS NULL OR next_attempt_at <= ${now})`;
    return { notification: toNotification(await findOrThrow(db, input.id)), claimed: claimed > 0 };
  },

  'notification.record-attempt': async (input, { db }) => {
    const [locked] = await db.$queryRaw<{ status: NotificationStatus }[]>`
      SELECT status::text AS status FROM notifications WHERE id = ${input.id}::uuid FOR UPDATE`;
    if (!locked) throw new NotFoundError(`Notification ${input.id} not found`);
    // A sent email stays sent: a late report of another attempt must not reopen it.
    if (locked.status === 'SENT') return toNotification(await findOrThrow(db, input.id));

    let data: Prisma.NotificationUpdateInput;
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
    const row = await db.notification.update({ where: { id: input.id }, data: { ...data, attempts: { increment: 1 } } });
    return toNotification(row);
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
    const status = input.status == null ? undefined : statusFromProto[input.status];
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
