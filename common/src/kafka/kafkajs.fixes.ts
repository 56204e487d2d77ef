import { createRequire } from 'node:module';

// kafkajs 2.2.4 is the last release (maintenance mode); this is the one place Mart mends it.

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const { prototype } = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue };
const scheduleCheckPendingRequests = prototype.scheduleCheckPendingRequests;

/**
 * After every response, kafkajs 2.2.4 schedules the next check of its pending requests with a
 * negative delay when nothing is pending or throttled, and each check schedules the next: a
 * 1 ms timer loop on every open connection, for as long as it is open (kafkajs issues #1556,
 * #1704; fixes never released). An idle Mart service woke ~900 times a second for it (strace).
 * With nothing pending and no throttle there is nothing to check: a new request schedules its own.
 */
prototype.scheduleCheckPendingRequests = function (this: RequestQueue) {
  if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
  scheduleCheckPendingRequests.call(this);
};

export const kafkajsRequestQueue = prototype;
