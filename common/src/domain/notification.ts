import { notificationStatus } from '@mart/proto/enums';

// The moves of a queued email, for notification-service and for db-service, which applies them.
// The status names are the proto's, which Prisma and the HTTP API spell the same.

export const notificationStatuses = notificationStatus.names;
export type NotificationStatusName = (typeof notificationStatuses)[number];

/**
 * Where an email may go from each status once an attempt to send it is reported: PENDING again
 * (to be retried), SENT, or FAILED (given up). A sent email stays sent, so a late report of
 * another attempt cannot reopen it; a failed one can still turn out sent.
 */
export const nextNotificationStatuses: Record<NotificationStatusName, readonly NotificationStatusName[]> = {
  PENDING: ['PENDING', 'SENT', 'FAILED'],
  FAILED: ['PENDING', 'SENT', 'FAILED'],
  SENT: [],
};

/** The statuses from which an email may move to `to`. */
export function notificationStatusesBefore(to: NotificationStatusName): NotificationStatusName[] {
  return notificationStatuses.filter((from) => nextNotificationStatuses[from].includes(to));
}
