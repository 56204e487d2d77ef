import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { orderConfigSchema } from './config.ts';
import { orderRoutes } from './order.routes.ts';

const config = loadConfig(orderConfigSchema);
const service = await runHttpService({
  service: 'order-service',
  description: 'Orders: placement with stock reservation and the order state machine (db-service expires unpaid orders).',
  config,
  routes: (runtime) => orderRoutes(runtime, { ttlSeconds: config.ORDER_TTL_SECONDS }),
});
stopOnSignals(service, service.runtime.logger);
