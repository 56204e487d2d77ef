import { randomUUID } from 'node:crypto';
import { type EventHandlers, type EventMeta, type Logger, type RpcClient } from '@mart/common';
import { mart, type CommandReply } from '@mart/proto';
import type { MailTransport } from './mail.transport.ts';
import type { NotificationSender } from './notification.sender.ts';
import { orderPlacedEmail, orderStatusEmail, welcomeEmail, type EmailDraft } from './notification.templates.ts';

type Rpc = Pick<RpcClient, 'call'>;
const Status = mart.notification.NotificationStatus;

/**
 * The emails Mart sends in reaction to domain events. Each is stored once per event and type
 * (the dedupe key) and leased to this sender in the same command, then sent; a redelivered event
 * finds it stored (and sent, or leased to someone) already.
 */
export function notificationEvents(deps: {
  rpc: Rpc;
  transport: MailTransport;
  sender: Pick<NotificationSender, 'send' | 'leaseSeconds'>;
  logger: Logger;
  /** Told when an email is someone else's for now (a lease, maybe our own lost one): retried when it ends. */
  retryAt: (at: Date) => void;
}): EventHandlers {
  const { rpc, transport, sender, logger } = deps;

  async function notify(meta: EventMeta, draft: EmailDraft | undefined, event: string): Promise<void> {
    if (!draft) {
      logger.debug({ event, eventId: meta.eventId }, 'no email for this event');
      return;
    }
    // The dedupe key makes the email once; the command id is new on every delivery, because a
    // stored reply replayed for a repeated id would hand the same lease out twice.
    const { notification, claimed } = await rpc.call('notification.enqueue', {
      id: randomUUID(),
      ...draft,
      provider: transport.provider,
      dedupeKey: `${meta.eventId}:${draft.type}`,
      leaseSeconds: sender.leaseSeconds,
    });
    if (!notification) return;
    // A decoded nested message carries every field (proto3 defaults), whatever its declared type says.
    if (claimed) await sender.send(notification as CommandReply<'notification.record-attempt'>);
    else if (notification.status === Status.NOTIFICATION_STATUS_PENDING && notification.nextAttemptAt) {
      deps.retryAt(new Date(notification.nextAttemptAt));
    }
  }

  return {
    'customer.registered': (event, meta) => notify(meta, welcomeEmail(event), 'customer.registered'),
    'order.placed': (event, meta) => notify(meta, orderPlacedEmail(event), 'order.placed'),
    'order.status-changed': (event, meta) => notify(meta, orderStatusEmail(event), 'order.status-changed'),
  };
}
