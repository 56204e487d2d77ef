import { loadConfig, runHttpService, stopOnSignals } from '@mart/common';
import { inventoryConfigSchema } from './config.ts';
import { inventoryEventHandlers } from './inventory.events.ts';
import { inventoryRoutes } from './inventory.routes.ts';

const service = await runHttpService({
  service: 'inventory-service',
  description: 'Stock per product for staff; reservations follow orders (committed when paid, released when cancelled).',
  config: loadConfig(inventoryConfigSchema),
  routes: inventoryRoutes,
  events: inventoryEventHandlers,
});
stopOnSignals(service, service.runtime.logger);
