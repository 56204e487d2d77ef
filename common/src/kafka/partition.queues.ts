import type { Consumer, KafkaMessage } from 'kafkajs';
import type { Logger } from '../logger.ts';
import { systemClock, type Clock } from '../alarm.ts';
import type { OffsetCommitter } from './offset.committer.ts';

/** Handles messages of one partition, in offset order; with `batchSize` 1, one at a time. */
export type MessageHandler = (topic: string, partition: number, messages: KafkaMessage[]) => Promise<void>;

interface Lane {
  topic: string;
  partition: number;
  queue: KafkaMessage[];
  /** The offset of the last message queued; a re-fetch after a consumer restart repeats some. */
  lastQueued: bigint;
  running: boolean;
  paused: boolean;
  /** A handler threw: the lane ignores new messages until its partition is re-read. */
  broken: boolean;
}

const rereadDelayMs = 1000;

/**
 * One lane per partition: messages of a partition are handled in order, partitions run
 * independently, and the consumer keeps fetching while they work.
 *
 * kafkajs hands every batch of one fetch response to its workers and fetches again only when all
 * of them are done, so one slow message (a command waiting on a row lock, an event handler
 * waiting on db-service) stalls every other partition of the broker. Here `eachMessage` only
 * queues; a lane that holds `maxQueued` messages pauses its partition until it has caught up.
 * Offsets are committed for handled messages only, so a crash re-reads what was queued.
 *
 * With `batchSize` above 1, whatever has queued up while the lane was busy (up to that many) is
 * handed over at once: under load a handler can then share work between them, and when the lane
 * keeps up every message still goes alone, without waiting for company.
 */
export class PartitionQueues {
  private readonly lanes = new Map<string, Lane>();
  private readonly idle = new Set<() => void>();
  private readonly slotWaiters: (() => void)[] = [];
  /** Lanes working now. */
  private running = 0;
  private stopping = false;

  constructor(
    private readonly options: {
      consumer: Consumer;
      committer: OffsetCommitter;
      handle: MessageHandler;
      logger: Logger;
      maxQueued?: number;
      /** Above this many busy lanes, `push` waits (see there); no limit when not given. */
      maxRunning?: number;
      batchSize?: number;
      /** Times the pause before a partition is re-read; tests move a FakeClock instead of waiting. */
      clock?: Clock;
    },
  ) {
    const { consumer } = options;
    // After a rebalance, lanes of partitions that moved to another instance are dropped: their
    // new owner starts from the committed offset. Messages already being handled finish.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = new Set(
        Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((p) => laneKey(topic, p))),
      );
      for (const [key, lane] of this.lanes) {
        if (assigned.has(key)) continue;
        lane.queue.length = 0;
        this.lanes.delete(key);
        options.committer.forget(lane.topic, lane.partition);
      }
    });
  }

  /**
   * For `eachMessage`: queues the message, and returns at once unless `maxRunning` lanes are
   * busy; then it waits until one is done. The wait holds kafkajs' fetch loop back on purpose:
   * a loaded service lets messages gather on the broker and takes them in larger fetches (and
   * larger lane batches) instead of spending its CPU on one fetch round trip per message.
   */
  async push(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    this.queue(topic, partition, message);
    while (!this.stopping && this.running >= (this.options.maxRunning ?? Infinity)) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
  }

  private queue(topic: string, partition: number, message: KafkaMessage): void {
    const key = laneKey(topic, partition);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { topic, partition, queue: [], lastQueued: -1n, running: false, paused: false, broken: false };
      this.lanes.set(key, lane);
    }
    const offset = BigInt(message.offset);
    if (this.stopping || lane.broken || offset <= lane.lastQueued) return;
    lane.lastQueued = offset;
    lane.queue.push(message);
    if (!lane.paused && lane.queue.length >= this.maxQueued) {
      lane.paused = true;
      this.options.consumer.pause([{ topic, partitions: [partition] }]);
    }
    if (!lane.running) void this.work(key, lane);
  }

  /**
   * For a clean stop, before the consumer disconnects: stops fetching (still a group member, so
   * offsets can be committed) and waits until every lane has handled what it holds.
   */
  async drain(topics: string[], timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const resolve of this.slotWaiters.splice(0)) resolve();
    this.options.consumer.pause(topics.map((topic) => ({ topic })));
    if (this.running === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const idle = this.idle;
      function done() {
        clearTimeout(timer);
        idle.delete(done);
        resolve();
      }
      idle.add(done);
    });
  }

  private get maxQueued(): number {
    return this.options.maxQueued ?? 500;
  }

  private async work(key: string, lane: Lane): Promise<void> {
    lane.running = true;
    this.running++;
    try {
      for (let batch = this.take(lane); batch.length > 0; batch = this.take(lane)) {
        try {
          await this.options.handle(lane.topic, lane.partition, batch);
        } catch (error) {
          // Handlers deal with their own failures (dead letters, retries); if one still throws,
          // the messages are left unhandled: the partition is read again from the first.
          if (!this.stopping)
            this.options.logger.error({ err: error, topic: lane.topic, partition: lane.partition }, 'message handler failed');
          this.reread(key, lane, batch[0]!);
          return;
        }
        if (this.lanes.get(key) !== lane) return; // revoked while handling: the new owner carries on
        this.options.committer.handled(lane.topic, lane.partition, batch.at(-1)!.offset);
        if (lane.paused && !this.stopping && lane.queue.length <= this.maxQueued / 2) {
          lane.paused = false;
          this.options.consumer.resume([{ topic: lane.topic, partitions: [lane.partition] }]);
        }
      }
    } finally {
      lane.running = false;
      this.running--;
      this.slotWaiters.shift()?.();
      if (this.running === 0) for (const resolve of [...this.idle]) resolve();
    }
  }

  private take(lane: Lane): KafkaMessage[] {
    return lane.queue.splice(0, this.options.batchSize ?? 1);
  }

  /** Pauses the partition, and after a pause for breath reads it again from `message`. */
  private reread(key: string, lane: Lane, message: KafkaMessage): void {
    const { consumer } = this.options;
    const partition = [{ topic: lane.topic, partitions: [lane.partition] }];
    lane.broken = true;
    lane.queue.length = 0;
    if (this.stopping) return; // the next run reads it again from the committed offset
    consumer.pause(partition);
    (this.options.clock ?? systemClock).setTimeout(() => {
      if (this.stopping || this.lanes.get(key) !== lane) return; // stopped or revoked meanwhile
      this.lanes.delete(key);
      try {
        consumer.seek({ topic: lane.topic, partition: lane.partition, offset: message.offset });
        consumer.resume(partition);
      } catch (error) {
        this.options.logger.warn({ err: error, topic: lane.topic, partition: lane.partition }, 'could not re-read the partition');
      }
    }, rereadDelayMs);
  }
}

function laneKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
