import { loadConfig, runHttpService, stopOnSignals } from '@mart/common';
import { orderConfigSchema } from './config.ts';
import { orderEventHandlers } from './order.events.ts';
import { orderExpiryJob } from './order.expiry.ts';
import { orderRoutes } from './order.routes.ts';

const config = loadConfig(orderConfigSchema);
const service = await runHttpService({
  service: 'order-service',
  description: 'Orders: placement with stock reservation, the order state machine, and expiry of unpaid orders.',
  config,
  routes: (runtime) => orderRoutes(runtime, { ttlSeconds: config.ORDER_TTL_SECONDS }),
  events: orderEventHandlers,
  jobs: ({ rpc, logger }) => [orderExpiryJob({ rpc, logger, intervalMs: config.ORDER_EXPIRY_INTERVAL_MS })],
});
stopOnSignals(service, service.runtime.logger);
