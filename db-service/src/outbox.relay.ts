import type { Producer } from '@mart/common/kafka';
import type { Logger } from '@mart/common/logger';
import { metrics } from '@mart/common/metrics';
import { headers as headerNames, mart, topics } from '@mart/proto';
import type { PrismaClient } from './database.ts';

// One relay publishes at a time across all db-service instances, so events of one aggregate
// reach Kafka in the order they were written.
const relayLockKey = 0x6d617274; // "mart"
// While another instance holds the relay lock, how soon to look again for rows this one wrote.
const busyRetryMs = 100;
const batchSize = 500;
// Rows are published in order, so one row whose topic does not exist would block every later
// event forever; such a row goes to the dead-letter topic instead.
const eventTopics = new Set<string>(Object.values(topics).filter((topic) => topic.endsWith('.events')));

interface OutboxRecord {
  id: bigint;
  event_id: string;
  topic: string;
  key: string;
  type: string;
  payload: Uint8Array;
  headers: Record<string, string>;
}

/**
 * Relays outbox rows to Kafka. It is woken, never polls: by its own instance's commits that wrote
 * events, at start, and when the instance's share of the command partitions changes (an instance
 * that stopped may have left rows behind). While another instance holds the relay lock it tries
 * again shortly, since it knows rows are waiting; after a failed publish it retries with backoff.
 * Delivery is at least once: a crash between publish and marking repeats the batch, so consumers
 * dedupe on `mart-event-id`.
 */
export class OutboxRelay {
  private running = false;
  private wake: (() => void) | undefined;
  // Set by kick() while a batch is in flight, so that wake-up is not lost.
  private dirty = false;
  private loop: Promise<void> | undefined;
  private failures = 0;

  constructor(private readonly options: { prisma: PrismaClient; producer: Producer; logger: Logger }) {}

  /** Starts with a pass, which publishes whatever was written while no relay ran. */
  start(): void {
    this.running = true;
    this.dirty = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
  }

  kick(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Publishes one batch; returns how many events it published, or 'busy' while another instance holds the relay lock. */
  async publishBatch(): Promise<number | 'busy'> {
    const { prisma, producer } = this.options;
    return prisma.$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${relayLockKey}) AS locked`;
        if (!lock?.locked) return 'busy';
        const rows = await tx.$queryRaw<OutboxRecord[]>`
          SELECT id, event_id, topic, key, type, payload, headers FROM outbox_events
          WHERE published_at IS NULL ORDER BY id LIMIT ${batchSize}`;
        if (rows.length === 0) return 0;
        const byTopic = new Map<string, { key: string; value: Buffer; headers: Record<string, string> }[]>();
        for (const row of rows) {
          const topic = eventTopics.has(row.topic) ? row.topic : topics.deadLetter;
          const messages = byTopic.get(topic) ?? [];
          const headers = { ...row.headers, [headerNames.type]: row.type, [headerNames.eventId]: row.event_id };
          if (topic === row.topic) {
            messages.push({ key: row.key, value: Buffer.from(row.payload), headers });
          } else {
            const reason = `unknown outbox topic: ${row.topic}`;
            this.options.logger.error({ eventId: row.event_id, topic: row.topic, type: row.type }, 'outbox event dead-lettered');
            const letter = mart.common.DeadLetter.encode({
              topic: row.topic,
              partition: -1,
              offset: '',
              reason,
              key: Buffer.from(row.key),
              value: row.payload,
              headers,
              failedAt: new Date().toISOString(),
            }).finish();
            messages.push({
              key: row.key,
              value: Buffer.from(letter),
              headers: { [headerNames.deadLetterReason]: reason, [headerNames.sourceTopic]: row.topic },
            });
          }
          byTopic.set(topic, messages);
        }
        await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        // Typed: an untyped array parameter arrives as numeric[], and bigint = numeric cannot use the primary key.
        await tx.$executeRaw`UPDATE outbox_events SET published_at = now() WHERE id = ANY(${rows.map((row) => row.id)}::bigint[])`;
        metrics.outboxPublished.inc(rows.length);
        return rows.length;
      },
      { maxWait: 5000, timeout: 30_000 },
    );
  }

  private async measureBacklog(): Promise<void> {
    const [backlog] = await this.options.prisma.$queryRaw<
      { count: bigint }[]
    >`SELECT count(*) AS count FROM outbox_events WHERE published_at IS NULL`;
    metrics.outboxBacklog.set(Number(backlog?.count ?? 0));
  }

  private async run(): Promise<void> {
    while (this.running) {
      const kicked = this.dirty;
      this.dirty = false;
      let retryInMs: number | undefined;
      try {
        const published = await this.publishBatch();
        this.failures = 0;
        if (published === batchSize) continue;
        if (published === 'busy') {
          // Another instance is publishing; rows this one was told about may be after its batch.
          if (kicked) retryInMs = busyRetryMs;
        } else {
          // A short batch took every row there was: nothing is waiting.
          metrics.outboxBacklog.set(0);
        }
      } catch (error) {
        this.failures++;
        retryInMs = Math.min(30_000, 250 * 2 ** (this.failures - 1));
        this.options.logger.warn({ err: error, retryInMs }, 'outbox relay failed; will retry');
        await this.measureBacklog().catch(() => undefined);
      }
      if (this.dirty && retryInMs === undefined) continue;
      await new Promise<void>((resolve) => {
        const timer = retryInMs === undefined ? undefined : setTimeout(resolve, retryInMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (retryInMs !== undefined) this.dirty = true;
    }
  }
}
