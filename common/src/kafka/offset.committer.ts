import type { Consumer } from 'kafkajs';
import type { Logger } from '../logger.ts';

/**
 * Commits consumed positions at most once per `intervalMs`. kafkajs' auto-commit sends an
 * OffsetCommit after every batch before it fetches again, which puts a broker round trip in the
 * path of every command and reply; Mart's consumers are safe to re-read a few messages after a
 * rebalance (mutations replay their stored reply, unknown replies are dropped), so positions can
 * lag. The timer runs only while something waits to be committed: an idle consumer costs nothing.
 */
export class OffsetCommitter {
  private readonly pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Records that `offset` of `topic`/`partition` has been handled. */
  handled(topic: string, partition: number, offset: string): void {
    this.pending.set(`${topic}\u0000${partition}`, { topic, partition, offset: nextOffset(offset) });
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
    this.timer.unref();
  }

  /**
   * Commits `offset` as handled at once, not lazily; rejects when the broker refuses (this
   * member lost the partition in a rebalance) or cannot be reached.
   */
  async commitNow(topic: string, partition: number, offset: string): Promise<void> {
    await this.consumer.commitOffsets([{ topic, partition, offset: nextOffset(offset) }]);
  }

  /** Drops the uncommitted position of a partition this consumer no longer owns. */
  forget(topic: string, partition: number): void {
    this.pending.delete(`${topic}\u0000${partition}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    try {
      await this.consumer.commitOffsets(offsets);
    } catch (error) {
      // Not fatal: the next flush commits newer positions; at worst a few messages are re-read.
      this.logger.debug({ err: error }, 'offset commit failed');
    }
  }
}

/** The position to commit once `offset` is handled: Kafka's committed offset is the next one to read. */
function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}
