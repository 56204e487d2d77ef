import net from 'node:net';
import tls from 'node:tls';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type ConsumerConfig,
  type ConsumerRunConfig,
  type ISocketFactory,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import type { Logger } from '../logger.ts';
import './kafkajs.fixes.ts';
import { metrics } from '../metrics.ts';

// kafkajs is in maintenance mode: only this folder imports it, behind Mart's own small API
// (RpcClient, CommandServer, EventPublisher), so replacing it touches nothing else.

export type { Kafka, Producer };

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs' own factory leaves Nagle's algorithm on, which holds back the small frames of a
 * request/reply exchange; Mart's messages are latency-bound, so send them at once. Keep-alive
 * probes find a broker host that vanished without closing its sockets (see createKafka).
 */
export const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
    : net.connect({ host, port }, onConnect);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  return socket;
};

export function createKafka(options: { clientId: string; brokers: string[]; logger: Logger }): Kafka {
  const kafkaLogger = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    socketFactory: noDelaySocketFactory,
    connectionTimeout: 1000,
    // kafkajs enforces request timeouts with a 100 ms interval timer on every open connection, for
    // as long as it is open: an idle service woke ~50 times a second for it. Without it, a broker
    // that stops or crashes still fails requests at once (it closes its sockets), callers keep
    // their own deadlines (RpcClient), and TCP keep-alive finds a host that vanished.
    enforceRequestTimeout: false,
    // Consumers and admin calls ride out a broker that is still starting (no group coordinator
    // yet) or restarting; only producer sends are bounded tightly (see createProducer).
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 3000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        kafkaLogger[levels[level] ?? 'info'](extra, message);
      },
  });
}

/** Consumer settings shared by Mart's consumers; a crashed consumer always restarts. */
export const consumerRetry = { retries: 10, initialRetryTime: 200, maxRetryTime: 3000, restartOnFailure: async () => true };

/**
 * What every Mart consumer uses unless it says otherwise:
 * - a fetch carries minBytes 1, so the broker answers as soon as one message arrives; the wait
 *   bounds only empty polls. Long waits cost no latency and keep an idle stack idle: at 100 ms,
 *   17 idle consumers kept the broker at 24 % of a core (shared/ENVIRONMENT.md);
 * - kafkajs heartbeats only between fetches, so an idle member heartbeats once per wait: the
 *   session must outlast a wait comfortably;
 * - a member lost with the broker (or a SIGKILLed instance) stays in the group until its session
 *   expires and every rejoin waits for it: 30 s kept services unready that long after a broker
 *   restart in the fault suite, so sessions are 15 s.
 */
const consumerDefaults = {
  maxWaitTimeInMs: 5000,
  sessionTimeout: 15_000,
  heartbeatInterval: 3000,
  allowAutoTopicCreation: false,
  retry: consumerRetry,
} satisfies Partial<ConsumerConfig>;

/**
 * A consumer that does not stay stopped. kafkajs restarts a crashed consumer only after a retriable
 * error; after a broker restart it can crash with a non-retriable one ("Failed to find group
 * coordinator", seen in the fault suite) and then never consumes again, so a service stays unready
 * for good. Such a crash runs it again (connect, then the same run config) with backoff.
 */
export function createConsumer(kafka: Kafka, config: ConsumerConfig, logger: Logger): Consumer {
  const consumer = kafka.consumer({ ...consumerDefaults, ...config });
  const run = consumer.run.bind(consumer);
  const disconnect = consumer.disconnect.bind(consumer);
  let runConfig: ConsumerRunConfig | undefined;
  let stopped = false;
  consumer.run = (settings) => {
    runConfig = settings;
    stopped = false;
    return run(settings);
  };
  consumer.disconnect = () => {
    stopped = true;
    return disconnect();
  };
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart || !runConfig) return;
    const settings = runConfig;
    void (async () => {
      for (let delay = 1000; !stopped; delay = Math.min(delay * 2, 10_000)) {
        logger.warn(
          { groupId: payload.groupId, err: payload.error, retryInMs: delay },
          'consumer stopped after a fatal error; restarting it',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (stopped) return;
        try {
          await consumer.connect();
          await run(settings);
          return;
        } catch (error) {
          logger.warn({ groupId: payload.groupId, err: error }, 'restarting the consumer failed');
        }
      }
    })();
  });
  return consumer;
}

/** A dead broker must surface as 503 within about a second, not after kafkajs' default minute. */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
  });
}

/**
 * Runs a start-up sequence (connect, subscribe, run, ...). If it fails half-way, what it
 * connected is disconnected again, so a retry starts from scratch: kafkajs refuses, for good, to
 * subscribe a consumer that is already running (a retry stuck on that kept a service unready).
 */
export async function startOrUndo(clients: { disconnect(): Promise<void> }[], start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    for (const client of clients) await client.disconnect().catch(() => undefined);
    throw error;
  }
}

/** Creates the topics that are missing; safe when several processes race to do it. */
export async function ensureTopics(kafka: Kafka, wanted: { topic: string; numPartitions: number }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter(({ topic }) => !existing.has(topic));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(({ topic, numPartitions }) => ({ topic, numPartitions })),
      });
    } catch (error) {
      // Another process created some of them first; that is the outcome we wanted.
      if (!/already exists/i.test(String((error as Error).message))) throw error;
    }
  } finally {
    await admin.disconnect();
  }
}

export function headerString(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** Keeps mart_kafka_consumer_lag current: after each batch, how far the partition's end is ahead. */
export function trackConsumerLag(consumer: Consumer, group: string): void {
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const lag = Number(payload.offsetLag);
    if (Number.isFinite(lag))
      metrics.consumerLag.set({ group, topic: payload.topic, partition: String(payload.partition) }, Math.max(0, lag));
  });
}
