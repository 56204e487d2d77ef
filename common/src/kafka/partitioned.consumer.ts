import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from '../logger.ts';
import { createConsumer, createProducer, ensureTopics, startOrUndo, trackConsumerLag } from './kafka.ts';
import { OffsetCommitter } from './offset.committer.ts';
import { PartitionQueues, type MessageHandler } from './partition.queues.ts';

/** How a member handles what it reads. */
export type Handling =
  /** In a lane per partition, in order, partitions independent of each other (see PartitionQueues). */
  | { lanes: { handle: MessageHandler; batchSize?: number; maxRunning?: number } }
  /** At once, as fetched: for work that never waits (matching a reply to its caller). */
  | { inline(message: KafkaMessage): void };

export interface PartitionedConsumerOptions {
  kafka: Kafka;
  groupId: string;
  logger: Logger;
  /** What this member is, in its log lines. */
  role: string;
  topics: readonly string[];
  /** Topics created, if missing, before the member subscribes. */
  ensure: readonly { topic: string; numPartitions: number }[];
  /**
   * Where a partition without a committed position starts: its beginning, or its end as of
   * start() (a reader of replies to commands it sends after start).
   */
  startAt: 'beginning' | 'end';
  commitIntervalMs: number;
  maxWaitTimeInMs?: number;
  handling: Handling;
  /** Called whenever this member has (re)joined the group and owns its share of the partitions. */
  onAssigned?: () => void;
}

/**
 * The one way Mart reads Kafka: a consumer group member with a producer at its side (for
 * replies, dead letters or commands), committing only what was handled, and flushing those
 * positions before a rebalance so the next owner starts after them. The command server, the
 * event consumer and the reply client are each one of these with their own handling.
 */
export class PartitionedConsumer {
  readonly producer: Producer;
  readonly committer: OffsetCommitter;
  private readonly consumer: Consumer;
  private readonly queues: PartitionQueues | undefined;
  private assigned = false;

  constructor(private readonly options: PartitionedConsumerOptions) {
    const { kafka, groupId, logger, handling } = options;
    this.producer = createProducer(kafka);
    const config = options.maxWaitTimeInMs === undefined ? { groupId } : { groupId, maxWaitTimeInMs: options.maxWaitTimeInMs };
    this.consumer = createConsumer(kafka, config, logger);
    this.committer = new OffsetCommitter(this.consumer, options.commitIntervalMs, logger);
    this.queues =
      'lanes' in handling
        ? new PartitionQueues({ consumer: this.consumer, committer: this.committer, logger, ...handling.lanes })
        : undefined;
    trackConsumerLag(this.consumer, groupId);
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.assigned = true;
      options.onAssigned?.();
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.assigned = false;
      logger.error({ err: payload.error }, `${options.role} crashed`);
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => void this.committer.flush());
  }

  /** True once this member owns its partitions. */
  get isAssigned(): boolean {
    return this.assigned;
  }

  async start(): Promise<void> {
    const { kafka, topics, startAt, handling } = this.options;
    await startOrUndo([this.consumer, this.producer], async () => {
      await ensureTopics(kafka, [...this.options.ensure]);
      const ends = startAt === 'end' ? await this.topicEnds() : [];
      await this.producer.connect();
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [...topics], fromBeginning: startAt === 'beginning' });
      const { queues } = this;
      await this.consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          if (queues) return queues.push(topic, partition, message);
          if ('inline' in handling) handling.inline(message);
          this.committer.handled(topic, partition, message.offset);
        },
      });
      for (const { topic, partition, offset } of ends) this.consumer.seek({ topic, partition, offset });
    });
  }

  /** Lets the lanes finish what they hold (up to `drainMs`), then `settle`, then commits and leaves. */
  async stop(drainMs: number, settle?: () => Promise<unknown>): Promise<void> {
    await this.queues?.drain([...this.options.topics], drainMs);
    await settle?.();
    await this.committer.stop();
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  private async topicEnds(): Promise<{ topic: string; partition: number; offset: string }[]> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const ends = [];
      for (const topic of this.options.topics) ends.push(...(await this.endsOf(admin, topic)));
      return ends;
    } finally {
      await admin.disconnect();
    }
  }

  private async endsOf(admin: ReturnType<Kafka['admin']>, topic: string) {
    // Just after the topic is created its partitions may have no leader yet: ask again.
    for (let attempt = 1; ; attempt++) {
      try {
        return (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => ({ topic, partition, offset: high }));
      } catch (error) {
        if (attempt >= 20 || !isRetriable(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }
}

/** kafkajs marks the errors worth another try (its classes cannot be imported by name from ESM). */
function isRetriable(error: unknown): boolean {
  return error instanceof Error && 'retriable' in error && error.retriable === true;
}
