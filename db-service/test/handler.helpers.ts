import { notificationLeaseSeconds } from '@mart/common/config';
import type { HandlerSettings } from '../src/handler.ts';

/** What db-service tells its handlers when nothing is configured, for tests that run handlers directly. */
export const testHandlerSettings: HandlerSettings = { emailLeaseSeconds: notificationLeaseSeconds.parse(undefined) };
