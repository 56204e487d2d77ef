import { AppError, type BackgroundJob, type Logger, type RpcClient } from '@mart/common';
import { randomUUID } from 'node:crypto';
import type { CommandReply, CommandRequest } from '@mart/proto';
import type { MailTransport } from './mail.transport.ts';

type Rpc = Pick<RpcClient, 'call'>;

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

const recordTries = 5;

/**
 * Sends stored emails: claim (so no other sender has it) → send → record the attempt. The
 * provider's message id and the SENT status are recorded by one command, and that command is
 * retried with the same id, so a sent email is never left looking unsent.
 */
export function notificationSender(deps: {
  rpc: Rpc;
  transport: MailTransport;
  logger: Logger;
  policy: RetryPolicy;
  from: string;
  now?: () => Date;
}) {
  const { rpc, transport, logger, policy, from } = deps;
  const now = deps.now ?? (() => new Date());

  async function record(request: CommandRequest<'notification.record-attempt'>): Promise<void> {
    const commandId = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        await rpc.call('notification.record-attempt', request, { commandId });
        return;
      } catch (error) {
        const transient = !(error instanceof AppError) || ['unavailable', 'upstream_timeout', 'internal'].includes(error.code);
        if (!transient || attempt >= recordTries) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  /** Sends one notification if it is still due and no one else holds it; returns whether it was attempted. */
  async function deliver(id: string): Promise<boolean> {
    const claim = await rpc.call('notification.claim', { id, leaseSeconds: policy.leaseSeconds });
    if (!claim.claimed || !claim.notification) return false;
    const notification = claim.notification as CommandReply<'notification.record-attempt'>;
    const attempt = notification.attempts + 1;
    let providerMessageId: string;
    try {
      ({ providerMessageId } = await transport.send({ from, to: notification.to, subject: notification.subject, body: notification.body }));
    } catch (error) {
      const giveUp = attempt >= policy.maxAttempts;
      const nextAttemptAt = new Date(now().getTime() + retryDelaySeconds(attempt, policy) * 1000).toISOString();
      logger.warn({ err: error, notificationId: id, attempt, giveUp, ...(giveUp ? {} : { nextAttemptAt }) }, 'sending an email failed');
      await record({ id, sent: false, error: (error as Error).message.slice(0, 500), giveUp, ...(giveUp ? {} : { nextAttemptAt }) });
      return true;
    }
    await record({ id, sent: true, providerMessageId });
    logger.info({ notificationId: id, type: notification.type, provider: transport.provider, providerMessageId }, 'email sent');
    return true;
  }

  return { deliver };
}

export type NotificationSender = ReturnType<typeof notificationSender>;

/** The background job that retries due emails (and sends any whose first attempt never happened). */
export function retryJob(deps: { rpc: Rpc; sender: NotificationSender; logger: Logger; pollMs: number }): BackgroundJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function sweep(): Promise<void> {
    const due = await deps.rpc.call('notification.list-due', { limit: 20 });
    for (const notification of due.items) {
      if (stopped) return;
      await deps.sender.deliver(notification.id ?? '');
    }
  }

  function schedule(): void {
    timer = setTimeout(() => {
      running = sweep()
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'email retry sweep failed; trying again later'))
        .finally(() => {
          if (!stopped) schedule();
        });
    }, deps.pollMs);
  }

  return {
    name: 'notification-retries',
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
