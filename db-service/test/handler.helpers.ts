import { dbServiceConfigSchema, handlerSettings } from '../src/config.ts';
import type { HandlerSettings } from '../src/handler.ts';

/** What db-service tells its handlers when nothing is configured, for tests that run handlers directly. */
export const testHandlerSettings: HandlerSettings = handlerSettings(dbServiceConfigSchema.parse({}));
