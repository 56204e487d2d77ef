import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { notificationConfigSchema } from './config.ts';
import { gmailTransport, type GmailSettings } from './gmail.transport.ts';
import { localTransport } from './mail.transport.ts';
import { notificationEvents } from './notification.events.ts';
import { notificationRoutes } from './notification.routes.ts';
import { notificationSender, retryAlarm } from './notification.sender.ts';

const config = loadConfig(notificationConfigSchema);
const { GMAIL_CLIENT_ID, GMAIL_CLIENT_SECRET, GMAIL_REFRESH_TOKEN, GMAIL_SENDER } = config;
const gmail: GmailSettings | undefined =
  GMAIL_CLIENT_ID && GMAIL_CLIENT_SECRET && GMAIL_REFRESH_TOKEN && GMAIL_SENDER
    ? {
        clientId: GMAIL_CLIENT_ID,
        clientSecret: GMAIL_CLIENT_SECRET,
        refreshToken: GMAIL_REFRESH_TOKEN,
        sender: GMAIL_SENDER,
        ...(config.GMAIL_API_ROOT_URL ? { rootUrl: config.GMAIL_API_ROOT_URL } : {}),
        timeoutMs: config.GMAIL_TIMEOUT_MS,
      }
    : undefined;

const service = await runHttpService({
  service: 'notification-service',
  description: `Delivers the emails db-service queues, through ${gmail ? 'the Gmail API' : 'the local transport (the log; no Gmail credentials)'}.`,
  config,
  routes: notificationRoutes,
  // One transport and one sender for the event handlers and the retries alike.
  background: ({ rpc, logger }) => {
    const transport = gmail ? gmailTransport(gmail) : localTransport(logger);
    const policy = {
      maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS,
      baseSeconds: config.NOTIFICATION_RETRY_BASE_SECONDS,
      maxSeconds: config.NOTIFICATION_RETRY_MAX_SECONDS,
      leaseSeconds: config.NOTIFICATION_LEASE_SECONDS,
    };
    const from = GMAIL_SENDER ?? config.MAIL_FROM;
    const retryAt = (at: Date) => retries.wake(at);
    const sender = notificationSender({ rpc, transport, logger, policy, from, retryAt });
    const retries = retryAlarm({ rpc, sender, logger });
    return { events: notificationEvents({ sender, logger, retryAt }), jobs: [retries] };
  },
});
stopOnSignals(service, service.runtime.logger);
