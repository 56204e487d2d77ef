import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { inventoryConfigSchema } from './config.ts';
import { inventoryRoutes } from './inventory.routes.ts';

const service = await runHttpService({
  service: 'inventory-service',
  description:
    'Stock per product for staff; db-service moves reservations with their orders (committed when paid, released when cancelled).',
  config: loadConfig(inventoryConfigSchema),
  routes: inventoryRoutes,
});
stopOnSignals(service, service.runtime.logger);
