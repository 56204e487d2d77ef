import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// One registry per process (one process is one service instance).
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

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
