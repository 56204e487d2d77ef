import { loadConfig } from '@mart/common/config';
import { stopOnSignals } from '@mart/common/service';
import { dbServiceConfigSchema } from './config.ts';
import { startDbService } from './db.service.ts';

const service = await startDbService(loadConfig(dbServiceConfigSchema));
stopOnSignals(service, service.logger);
