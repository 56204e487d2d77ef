import type { HttpServiceDefinition } from '@mart/common/service';
import type { NotificationConfig } from './config.ts';
import { gmailTransport, type GmailSettings } from './gmail.transport.ts';
import { localTransport } from './mail.transport.ts';
import { notificationEvents } from './notification.events.ts';
import { notificationSender, retryAlarm } from './notification.sender.ts';

/** Gmail when all four of its credentials are set; otherwise emails go to the log. */
export function gmailSettings(config: NotificationConfig): GmailSettings | undefined {
  const { GMAIL_CLIENT_ID, GMAIL_CLIENT_SECRET, GMAIL_REFRESH_TOKEN, GMAIL_SENDER } = config;
  if (!GMAIL_CLIENT_ID || !GMAIL_CLIENT_SECRET || !GMAIL_REFRESH_TOKEN || !GMAIL_SENDER) return undefined;
  return {
    clientId: GMAIL_CLIENT_ID,
    clientSecret: GMAIL_CLIENT_SECRET,
    refreshToken: GMAIL_REFRESH_TOKEN,
    sender: GMAIL_SENDER,
    ...(config.GMAIL_API_ROOT_URL ? { rootUrl: config.GMAIL_API_ROOT_URL } : {}),
    timeoutMs: config.GMAIL_TIMEOUT_MS,
  };
}

/**
 * What notification-service does besides HTTP: one transport and one sender for the event
 * handlers and the retry job alike, the retry job woken by either.
 */
export function emailDelivery(config: NotificationConfig, gmail: GmailSettings | undefined): HttpServiceDefinition['background'] {
  return ({ rpc, logger }) => {
    const transport = gmail ? gmailTransport(gmail) : localTransport(logger);
    const policy = {
      maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS,
      baseSeconds: config.NOTIFICATION_RETRY_BASE_SECONDS,
      maxSeconds: config.NOTIFICATION_RETRY_MAX_SECONDS,
      leaseSeconds: config.NOTIFICATION_LEASE_SECONDS,
    };
    const from = config.GMAIL_SENDER ?? config.MAIL_FROM;
    const retryAt = (at: Date) => retries.wake(at);
    const sender = notificationSender({ rpc, transport, logger, policy, from, retryAt });
    const retries = retryAlarm({ rpc, sender, logger });
    return { events: notificationEvents({ sender, logger, retryAt }), jobs: [retries] };
  };
}
