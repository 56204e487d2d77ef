import { Alarm, type Clock } from '@mart/common/alarm';
import { AppError } from '@mart/common/errors';
import type { RpcCaller } from '@mart/common/kafka';
import type { Logger } from '@mart/common/logger';
import { randomUUID } from 'node:crypto';
import type { CommandReply, CommandRequest } from '@mart/proto';
import type { MailTransport } from './mail.transport.ts';

type Notification = CommandReply<'notification.record-attempt'>;

export interface RetryPolicy {
  maxAttempts: number;
  baseSeconds: number;
  maxSeconds: number;
  /** How long a claimed email is ours before another sender may try it. */
  leaseSeconds: number;
}

/** Seconds to wait after failed attempt n (1-based): base, 2·base, 4·base, ... capped at max. */
export function retryDelaySeconds(attempt: number, policy: Pick<RetryPolicy, 'baseSeconds' | 'maxSeconds'>): number {
  return Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** Math.max(0, attempt - 1));
}

/** The longest pause between two tries of recording an attempt. */
const recordBackoffMaxMs = 2000;

/**
 * Sends stored emails: claim (so no other sender has it) → send → record the attempt. The
 * provider's message id and the SENT status are recorded by one command, and that command is
 * retried with the same id, so a sent email is never left looking unsent.
 */
export function notificationSender(deps: {
  rpc: RpcCaller;
  transport: MailTransport;
  logger: Logger;
  policy: RetryPolicy;
  from: string;
  now?: () => Date;
  /** Told when a failed email is due again, so its retry is not left to chance. */
  retryAt?: (at: Date) => void;
}) {
  const { rpc, transport, logger, policy, from } = deps;
  const now = deps.now ?? (() => new Date());

  /**
   * Records an attempt, trying again (same command id, so once) while db-service or Kafka is
   * away, for up to half the lease: an email sent but not recorded would be sent again by the
   * retry job once the lease ends, so the record is worth waiting for, but not past that.
   */
  async function record(request: CommandRequest<'notification.record-attempt'>): Promise<void> {
    const commandId = randomUUID();
    const giveUpAt = Date.now() + (policy.leaseSeconds * 1000) / 2;
    for (let attempt = 1; ; attempt++) {
      try {
        await rpc.call('notification.record-attempt', request, { commandId });
        return;
      } catch (error) {
        const transient = !(error instanceof AppError) || ['unavailable', 'upstream_timeout', 'internal'].includes(error.code);
        if (!transient || Date.now() >= giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(recordBackoffMaxMs, 200 * attempt)));
      }
    }
  }

  /** Sends a notification this sender holds the lease of, and records the attempt. */
  async function send(notification: Notification): Promise<void> {
    const { id } = notification;
    const attempt = notification.attempts + 1;
    let providerMessageId: string;
    try {
      ({ providerMessageId } = await transport.send({ from, to: notification.to, subject: notification.subject, body: notification.body }));
    } catch (error) {
      const giveUp = attempt >= policy.maxAttempts;
      const nextAttemptAt = new Date(now().getTime() + retryDelaySeconds(attempt, policy) * 1000);
      logger.warn({ err: error, notificationId: id, attempt, giveUp, ...(giveUp ? {} : { nextAttemptAt }) }, 'sending an email failed');
      const retry = giveUp ? {} : { nextAttemptAt: nextAttemptAt.toISOString() };
      await record({ id, provider: transport.provider, sent: false, error: (error as Error).message.slice(0, 500), giveUp, ...retry });
      if (!giveUp) deps.retryAt?.(nextAttemptAt);
      return;
    }
    await record({ id, provider: transport.provider, sent: true, providerMessageId });
    logger.info({ notificationId: id, type: notification.type, provider: transport.provider, providerMessageId }, 'email sent');
  }

  /** Sends one notification if it is still due and no one else holds it; returns whether it was attempted. */
  async function deliver(id: string): Promise<boolean> {
    const claim = await rpc.call('notification.claim', { id, leaseSeconds: policy.leaseSeconds });
    if (!claim.claimed || !claim.notification) return false;
    await send(claim.notification as Notification);
    return true;
  }

  return { send, deliver };
}

export type NotificationSender = ReturnType<typeof notificationSender>;

/**
 * Sends the emails whose time has come again (failed attempts, and leases of a sender that
 * stopped half-way): woken at the next due time that db-service reports, at start, after a
 * failed attempt, and when this instance's share of the event partitions changes (another
 * instance may have stopped while holding a lease). Nothing polls in between.
 */
export function retryAlarm(deps: { rpc: RpcCaller; sender: Pick<NotificationSender, 'deliver'>; logger: Logger; clock?: Clock }): Alarm {
  const batch = 20;
  return new Alarm({
    name: 'notification-retries',
    logger: deps.logger,
    ...(deps.clock ? { clock: deps.clock } : {}),
    work: async () => {
      const due = await deps.rpc.call('notification.list-due', { limit: batch });
      for (const notification of due.items) await deps.sender.deliver(notification.id ?? '');
      if (due.items.length === batch) return new Date(deps.clock?.now() ?? Date.now());
      return due.nextDueAt ? new Date(due.nextDueAt) : null;
    },
  });
}
