import { randomUUID } from 'node:crypto';
import { AssignerProtocol, Kafka, logLevel, type Admin, type Consumer, type KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { eventually, requiredEnv } from '@mart/common/testing';

// The Kafka and database side of the poison-message suite: a reader that keeps every message of
// some topics, the consumer groups' subscriptions, and a checksum of every table.

export function testKafka(): Kafka {
  return new Kafka({
    clientId: `poison-${randomUUID().slice(0, 8)}`,
    brokers: requiredEnv('KAFKA_BROKERS').split(','),
    logLevel: logLevel.NOTHING,
  });
}

export function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first?.toString();
}

/** Reads topics from their beginning in a group of its own and keeps what it read, for waiting and looking back. */
export class TopicReader {
  readonly messages: { topic: string; partition: number; message: KafkaMessage }[] = [];
  private readonly seen = new Map<string, bigint>();
  private readonly waiters = new Set<() => void>();
  private readonly consumer: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: string[],
  ) {
    this.consumer = kafka.consumer({ groupId: `poison-reader-${randomUUID()}`, maxWaitTimeInMs: 50 });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        this.messages.push({ topic, partition, message });
        this.seen.set(`${topic}:${partition}`, BigInt(message.offset));
        for (const wake of this.waiters) wake();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  /** The first message that matches, now or when it arrives; fails after `timeoutMs`. */
  async waitFor(what: string, matches: (message: KafkaMessage, topic: string) => boolean, timeoutMs: number): Promise<KafkaMessage> {
    const find = () => this.messages.find(({ message, topic }) => matches(message, topic))?.message;
    return this.until(what, find, timeoutMs);
  }

  /** Resolves once everything written to the topics so far has been read. */
  async caughtUp(admin: Admin, timeoutMs = 15_000): Promise<void> {
    const ends = (
      await Promise.all(
        this.topics.map(async (topic) =>
          (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => ({ key: `${topic}:${partition}`, last: BigInt(high) - 1n })),
        ),
      )
    ).flat();
    await this.until(
      `reading ${this.topics.join(', ')} to the end`,
      () => ends.every(({ key, last }) => last < 0n || (this.seen.get(key) ?? -1n) >= last) || undefined,
      timeoutMs,
    );
  }

  private until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = probe();
        if (found === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

/** Topic → the consumer groups whose members are assigned it, from the running stack's groups. */
export async function subscriptions(admin: Admin): Promise<Map<string, string[]>> {
  const { groups } = await admin.listGroups();
  const described = await admin.describeGroups(groups.map(({ groupId }) => groupId));
  const byTopic = new Map<string, string[]>();
  for (const group of described.groups) {
    for (const member of group.members) {
      const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      for (const topic of Object.keys(assignment?.assignment ?? {})) {
        const names = byTopic.get(topic) ?? [];
        if (!names.includes(group.groupId)) byTopic.set(topic, [...names, group.groupId]);
      }
    }
  }
  return byTopic;
}

/**
 * Rows that background jobs write while the suite runs, whoever sends poison: order-service's
 * expiry job is a mutation every few seconds, so it claims a processed_commands row each time.
 */
const backgroundRows: Record<string, string> = {
  processed_commands: `command_type <> 'order.expire'`,
};

/** Table → row count and an order-independent checksum of its rows, for every table of the schema. */
export async function tableChecksums(db: pg.Pool): Promise<Record<string, string>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const sums: Record<string, string> = {};
  for (const { name } of tables) {
    const where = backgroundRows[name] ? `WHERE ${backgroundRows[name]}` : '';
    const { rows } = await db.query<{ n: number; sum: string | null }>(
      `SELECT count(*)::int AS n, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) AS sum FROM "${name}" t ${where}`,
    );
    sums[name] = `${rows[0]!.n} rows, ${rows[0]!.sum ?? '-'}`;
  }
  return sums;
}

/** Checksums once nothing has changed for a moment: earlier suites' events may still be settling. */
export async function settledChecksums(db: pg.Pool, timeoutMs = 20_000): Promise<Record<string, string>> {
  let previous = await tableChecksums(db);
  try {
    return await eventually(
      async () => {
        const current = await tableChecksums(db);
        const settled = JSON.stringify(current) === JSON.stringify(previous);
        previous = current;
        return settled && current;
      },
      'the tables to stop changing',
      { timeoutMs, intervalMs: 500 },
    );
  } catch {
    return previous; // still changing: the caller's comparison names what moved
  }
}
