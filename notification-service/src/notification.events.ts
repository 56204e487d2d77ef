import { ValidationError } from '@mart/common/errors';
import type { EventHandlers } from '@mart/common/kafka';
import type { Logger } from '@mart/common/logger';
import type { CommandReply } from '@mart/proto';
import { notificationStatus } from '@mart/proto/enums';
import type { NotificationSender } from './notification.sender.ts';

type Notification = CommandReply<'notification.record-attempt'>;

/** How many delivered email ids an instance remembers, to know a copy of an event it has handled. */
const rememberedIds = 10_000;

/**
 * Delivers the emails db-service queues. db-service writes each one, leased to the consumer of
 * its notification.queued event, in the transaction of the change it tells of; here it is sent
 * and the attempt recorded: one command per email.
 *
 * Before sending, the event's position is committed. The broker refuses that commit from a member
 * that lost the partition in a rebalance, so of two instances that read the same event only the
 * owner sends it, and a restarted consumer does not read it again. A copy of the event at a later
 * offset (the outbox relay publishing again after a crash) is known by the ids this instance sent
 * last. An instance that stops between the commit and the record leaves the email PENDING: the
 * retry job sends it when the lease ends.
 */
export function notificationEvents(deps: {
  sender: Pick<NotificationSender, 'send'>;
  logger: Logger;
  /** Told when an email is left to its lease: the retry job looks again when it ends. */
  retryAt: (at: Date) => void;
}): EventHandlers {
  const { sender, logger } = deps;
  const delivered = new Set<string>();

  function remember(id: string): void {
    delivered.add(id);
    if (delivered.size > rememberedIds) delivered.delete(delivered.values().next().value!);
  }

  return {
    'notification.queued': async ({ notification }, meta) => {
      if (!notification?.id) throw new ValidationError([{ path: 'notification.id', message: 'is required' }]);
      if (notificationStatus.fromWire(notification.status) !== 'PENDING' || delivered.has(notification.id)) {
        logger.debug({ notificationId: notification.id, eventId: meta.eventId }, 'email already handled');
        return;
      }
      if (!(await meta.claim())) {
        if (notification.nextAttemptAt) deps.retryAt(new Date(notification.nextAttemptAt));
        return;
      }
      remember(notification.id);
      try {
        // A decoded nested message carries every field (proto3 defaults), whatever its declared type says.
        await sender.send(notification as Notification);
      } catch (error) {
        // The attempt could not be recorded (db-service away for longer than the sender waits):
        // the email stays PENDING, and the retry job takes it when its lease ends.
        logger.warn({ err: error, notificationId: notification.id }, 'could not record an email attempt; left to the retry job');
        if (notification.nextAttemptAt) deps.retryAt(new Date(notification.nextAttemptAt));
      }
    },
  };
}
