import { randomUUID } from 'node:crypto';
import { commandIdFor, type EventHandlers, type EventMeta, type Logger, type RpcClient } from '@mart/common';
import type { MailTransport } from './mail.transport.ts';
import type { NotificationSender } from './notification.sender.ts';
import { orderPlacedEmail, orderStatusEmail, welcomeEmail, type EmailDraft } from './notification.templates.ts';

type Rpc = Pick<RpcClient, 'call'>;

/**
 * The emails Mart sends in reaction to domain events. Each is stored once per event and type
 * (the dedupe key), then sent; a redelivered event finds it stored (and sent) already.
 */
export function notificationEvents(deps: {
  rpc: Rpc;
  transport: MailTransport;
  sender: NotificationSender;
  logger: Logger;
}): EventHandlers {
  const { rpc, transport, sender, logger } = deps;

  async function notify(meta: EventMeta, draft: EmailDraft | undefined, event: string): Promise<void> {
    if (!draft) {
      logger.debug({ event, eventId: meta.eventId }, 'no email for this event');
      return;
    }
    const { notification } = await rpc.call(
      'notification.enqueue',
      { id: randomUUID(), ...draft, provider: transport.provider, dedupeKey: `${meta.eventId}:${draft.type}` },
      { commandId: commandIdFor(meta.eventId, `notify:${draft.type}`) },
    );
    // The claim inside deliver() makes this a no-op when the email was sent (or is being sent) already.
    if (notification?.id) await sender.deliver(notification.id);
  }

  return {
    'customer.registered': (event, meta) => notify(meta, welcomeEmail(event), 'customer.registered'),
    'order.placed': (event, meta) => notify(meta, orderPlacedEmail(event), 'order.placed'),
    'order.status-changed': (event, meta) => notify(meta, orderStatusEmail(event), 'order.status-changed'),
  };
}
