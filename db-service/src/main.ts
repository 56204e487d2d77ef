import { loadConfig, stopOnSignals } from '@mart/common';
import { dbServiceConfigSchema } from './config.ts';
import { startDbService } from './db.service.ts';

const service = await startDbService(loadConfig(dbServiceConfigSchema));
stopOnSignals(service, service.logger);
