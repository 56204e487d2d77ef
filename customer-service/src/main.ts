import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { customerConfigSchema } from './config.ts';
import { customerRoutes } from './customer.routes.ts';

const config = loadConfig(customerConfigSchema);
const service = await runHttpService({
  service: 'customer-service',
  description: 'Customer accounts: registration is open; /me needs a customer token; the rest is for staff.',
  config,
  routes: (runtime) => customerRoutes(runtime, { bcryptCost: config.BCRYPT_COST }),
});
stopOnSignals(service, service.runtime.logger);
