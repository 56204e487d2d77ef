import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { productConfigSchema } from './config.ts';
import { productRoutes } from './product.routes.ts';

const service = await runHttpService({
  service: 'product-service',
  description: 'Products of the catalog with search, filters and availability. Reads are public; writes need a staff token.',
  config: loadConfig(productConfigSchema),
  routes: productRoutes,
});
stopOnSignals(service, service.runtime.logger);
