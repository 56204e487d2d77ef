import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import gcMetrics from 'prom-client/lib/metrics/gc.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processHandles from 'prom-client/lib/metrics/processHandles.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processRequests from 'prom-client/lib/metrics/processRequests.js';
import processResources from 'prom-client/lib/metrics/processResources.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';

// One registry per process (one process is one service instance).
export const metricsRegistry = new Registry();

// prom-client's default set minus nodejs_eventloop_lag_*: its histogram runs a 10 ms timer for the
// process's whole life (100 wake-ups a second, ~1 % of a core per idle service, measured). These
// read their values when scraped; event loop saturation comes from ELU below, also read on scrape.
for (const register of [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  processResources,
  processHandles,
  processRequests,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  version,
  gcMetrics,
]) {
  register(metricsRegistry, {});
}

let lastUtilization = performance.eventLoopUtilization();
new Gauge({
  name: 'nodejs_eventloop_utilization',
  help: 'Share of time the event loop was busy since the previous scrape (0 to 1)',
  registers: [metricsRegistry],
  collect() {
    const now = performance.eventLoopUtilization();
    this.set(performance.eventLoopUtilization(now, lastUtilization).utilization);
    lastUtilization = now;
  },
});

const latencyBuckets = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const metrics = {
  httpDuration: new Histogram({
    name: 'mart_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: latencyBuckets,
    registers: [metricsRegistry],
  }),
  rpcDuration: new Histogram({
    name: 'mart_rpc_duration_seconds',
    help: 'Kafka request/reply latency seen by the caller',
    labelNames: ['command', 'outcome'] as const,
    buckets: latencyBuckets,
    registers: [metricsRegistry],
  }),
  rpcTimeouts: new Counter({
    name: 'mart_rpc_timeouts_total',
    help: 'Commands that got no reply before their deadline',
    labelNames: ['command'] as const,
    registers: [metricsRegistry],
  }),
  rpcPending: new Gauge({
    name: 'mart_rpc_pending',
    help: 'Commands sent and still awaiting a reply',
    registers: [metricsRegistry],
  }),
  commandDuration: new Histogram({
    name: 'mart_db_command_duration_seconds',
    help: 'Time db-service spends applying one command',
    labelNames: ['command', 'outcome'] as const,
    buckets: latencyBuckets,
    registers: [metricsRegistry],
  }),
  commandsExpired: new Counter({
    name: 'mart_db_commands_expired_total',
    help: 'Commands skipped because their deadline had passed on arrival',
    labelNames: ['command'] as const,
    registers: [metricsRegistry],
  }),
  commandsReplayed: new Counter({
    name: 'mart_db_commands_replayed_total',
    help: 'Redelivered or retried commands answered from the processed-command record',
    labelNames: ['command'] as const,
    registers: [metricsRegistry],
  }),
  deadLetters: new Counter({
    name: 'mart_dead_letters_total',
    help: 'Messages sent to the dead-letter topic',
    labelNames: ['topic', 'reason'] as const,
    registers: [metricsRegistry],
  }),
  eventsHandled: new Counter({
    name: 'mart_events_handled_total',
    help: 'Domain events a consumer handled (delivered to a handler that finished)',
    labelNames: ['event'] as const,
    registers: [metricsRegistry],
  }),
  dbQueries: new Counter({
    name: 'mart_db_queries_total',
    help: 'SQL statements db-service sent to PostgreSQL',
    registers: [metricsRegistry],
  }),
  eventRetries: new Counter({
    name: 'mart_event_retries_total',
    help: 'Domain events whose handling failed transiently and was retried',
    labelNames: ['event'] as const,
    registers: [metricsRegistry],
  }),
  consumerLag: new Gauge({
    name: 'mart_kafka_consumer_lag',
    help: 'Messages behind the end of the partition after the last batch a consumer handled',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [metricsRegistry],
  }),
  outboxBacklog: new Gauge({
    name: 'mart_outbox_backlog',
    help: 'Outbox events written but not yet published to Kafka',
    registers: [metricsRegistry],
  }),
  outboxPublished: new Counter({
    name: 'mart_outbox_published_total',
    help: 'Outbox events relayed to Kafka',
    registers: [metricsRegistry],
  }),
};
