import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { categoryRoutes } from './category.routes.ts';
import { categoryConfigSchema } from './config.ts';

const service = await runHttpService({
  service: 'category-service',
  description: 'The category tree of the catalog. Reads are public; writes need a staff token.',
  config: loadConfig(categoryConfigSchema),
  routes: categoryRoutes,
});
stopOnSignals(service, service.runtime.logger);
