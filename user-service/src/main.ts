import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { developmentAdmin, userConfigSchema } from './config.ts';
import { userRoutes } from './user.routes.ts';
import { userService } from './user.service.ts';

const config = loadConfig(userConfigSchema);
const options = { bcryptCost: config.BCRYPT_COST };
const service = await runHttpService({
  service: 'user-service',
  description: 'Staff accounts (roles admin and staff). Admin only.',
  config,
  routes: (runtime) => userRoutes(runtime, options),
  startup: async ({ rpc, logger }) => {
    const admin = { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD, name: config.ADMIN_NAME };
    if (!(await userService(rpc, options).ensureAdmin(admin))) return;
    const usesDefault = admin.password === developmentAdmin.password;
    logger.info({ email: admin.email }, `created the first admin${usesDefault ? ' with the development default password' : ''}`);
  },
});
stopOnSignals(service, service.runtime.logger);
