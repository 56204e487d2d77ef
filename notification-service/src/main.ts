import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { notificationConfigSchema } from './config.ts';
import { emailDelivery, gmailSettings } from './notification.delivery.ts';
import { notificationRoutes } from './notification.routes.ts';

const config = loadConfig(notificationConfigSchema);
const gmail = gmailSettings(config);

const service = await runHttpService({
  service: 'notification-service',
  description: `Delivers the emails db-service queues, through ${gmail ? 'the Gmail API' : 'the local transport (the log; no Gmail credentials)'}.`,
  config,
  routes: notificationRoutes,
  background: emailDelivery(config, gmail),
});
stopOnSignals(service, service.runtime.logger);
