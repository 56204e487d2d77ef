import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { brandRoutes } from './brand.routes.ts';
import { brandConfigSchema } from './config.ts';

const service = await runHttpService({
  service: 'brand-service',
  description: 'Brands of the catalog. Reads are public; writes need a staff token.',
  config: loadConfig(brandConfigSchema),
  routes: brandRoutes,
});
stopOnSignals(service, service.runtime.logger);
