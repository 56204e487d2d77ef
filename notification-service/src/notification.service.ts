import { pagedReply } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import type { CommandReply } from '@mart/proto';
import { notificationStatus } from '@mart/proto/enums';
import type { ListNotificationsQuery, NotificationDto } from './notification.schemas.ts';

type Notification = CommandReply<'notification.record-attempt'>;

export function toNotificationDto(notification: Notification): NotificationDto {
  return {
    id: notification.id,
    type: notification.type,
    to: notification.to,
    subject: notification.subject,
    body: notification.body,
    status: notificationStatus.fromWireOrThrow(notification.status),
    attempts: notification.attempts,
    provider: notification.provider ?? null,
    ...(notification.providerMessageId ? { providerMessageId: notification.providerMessageId } : {}),
    ...(notification.lastError ? { lastError: notification.lastError } : {}),
    ...(notification.nextAttemptAt ? { nextAttemptAt: notification.nextAttemptAt } : {}),
    createdAt: notification.createdAt,
  };
}

/** Reads of the email log (sending happens in reaction to events: see notification.events.ts). */
export function notificationService(rpc: RpcCaller) {
  return {
    async list(query: ListNotificationsQuery, requestId: string) {
      const result = await rpc.call(
        'notification.list',
        {
          page: { page: query.page, pageSize: query.pageSize },
          to: query.to,
          type: query.type,
          status: query.status ? notificationStatus.toWire(query.status) : undefined,
        },
        { requestId },
      );
      return pagedReply(result, query, (notification) => toNotificationDto(notification as Notification));
    },
  };
}
