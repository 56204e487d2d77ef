import { metrics, type Logger, type Producer } from '@mart/common';
import { headers as headerNames, mart, topics } from '@mart/proto';
import type { PrismaClient } from './database.ts';

// One relay publishes at a time across all db-service instances, so events of one aggregate
// reach Kafka in the order they were written.
const relayLockKey = 0x6d617274; // "mart"
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
 * Relays outbox rows to Kafka: woken right after a transaction writes events, and polling as a
 * fallback (another instance's writes, a failed publish). Delivery is at least once: a crash
 * between publish and marking repeats the batch, so consumers dedupe on `mart-event-id`.
 */
export class OutboxRelay {
  private running = false;
  private wake: (() => void) | undefined;
  // Set by kick() while a batch is in flight, so that wake-up is not lost.
  private dirty = false;
  private loop: Promise<void> | undefined;
  private backlogMeasuredAt = 0;

  constructor(private readonly options: { prisma: PrismaClient; producer: Producer; logger: Logger; pollMs: number }) {}

  start(): void {
    this.running = true;
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

  /** Publishes one batch; returns how many events it published. */
  async publishBatch(): Promise<number> {
    const { prisma, producer } = this.options;
    return prisma.$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${relayLockKey}) AS locked`;
        if (!lock?.locked) return 0;
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
              headers: { 'mart-dead-letter-reason': reason, 'mart-source-topic': row.topic },
            });
          }
          byTopic.set(topic, messages);
        }
        await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        await tx.$executeRaw`UPDATE outbox_events SET published_at = now() WHERE id = ANY(${rows.map((row) => row.id)})`;
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
    this.backlogMeasuredAt = Date.now();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let published = 0;
      this.dirty = false;
      try {
        published = await this.publishBatch();
        // Under load the relay is woken by every commit; the gauge needs no fresher value
        // than once per poll interval, so the count stays off that path.
        if (Date.now() - this.backlogMeasuredAt >= this.options.pollMs) await this.measureBacklog();
      } catch (error) {
        this.options.logger.warn({ err: error }, 'outbox relay failed; will retry');
      }
      if (published === batchSize || this.dirty) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
