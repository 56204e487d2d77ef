/**
 * Inspect Mart's Kafka topics without a browser.
 *
 *   npm run topics -- list                                  topics, partitions, end offsets, group lag
 *   npm run topics -- tail <topic> [--from-beginning] [--max N]
 *                                                           messages decoded from protobuf to JSON
 *
 * Brokers come from KAFKA_BROKERS (default 127.0.0.1:9092).
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { commands, events, headers, isCommandName, isEventName, mart, topics } from '@mart/proto';

/** A message as read from Kafka, before decoding. */
export interface RawMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp?: string;
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: IHeaders;
}

export interface DecodedMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp?: string;
  key: string | null;
  headers: Record<string, string>;
  /** The protobuf message type used to decode the value, or null when none applies. */
  type: string | null;
  /** Replies only: 'ok' or 'error'. */
  status?: string;
  value: unknown;
  /** Set when the value could not be decoded; the value is then `{ base64 }`. */
  error?: string;
}

interface Codec {
  decode(bytes: Uint8Array): unknown;
  toObject?(message: unknown, options?: object): Record<string, unknown>;
}

const conversion = { longs: String, enums: String, bytes: String, defaults: true, arrays: true, objects: true } as const;

function toJson(codec: Codec, bytes: Uint8Array): unknown {
  const decoded = codec.decode(bytes);
  return codec.toObject ? codec.toObject(decoded, conversion) : decoded;
}

function headerText(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

function typeName(codec: unknown): string {
  const name = (codec as { getTypeUrl?(prefix: string): string }).getTypeUrl?.('');
  return name ? name.replace(/^\//, '') : 'unknown';
}

/** Picks the protobuf type of a message from its topic and headers. */
function codecFor(topic: string, messageHeaders: Record<string, string>): { codec: Codec; status?: string } | undefined {
  if (topic === topics.deadLetter) return { codec: mart.common.DeadLetter as Codec };
  const type = messageHeaders[headers.type];
  if (!type) return undefined;
  if (topic.startsWith('mart.replies.') || type.endsWith('.reply')) {
    const status = messageHeaders[headers.status];
    const name = type.replace(/\.reply$/, '');
    if (status === 'error') return { codec: mart.common.Error as Codec, status };
    if (isCommandName(name)) return { codec: commands[name].reply as Codec, ...(status ? { status } : {}) };
    return undefined;
  }
  if (isCommandName(type)) return { codec: commands[type].request as Codec };
  if (isEventName(type)) return { codec: events[type].type as Codec };
  return undefined;
}

/**
 * Decodes one Kafka message of any Mart topic to plain JSON, using the registry: commands and
 * events by the `mart-type` header, replies by `<command>.reply` and `mart-status`, dead letters
 * as mart.common.DeadLetter (with the original message decoded too). Anything else keeps its
 * raw bytes as base64. Pure: no I/O.
 */
export function decodeMessage(message: RawMessage): DecodedMessage {
  const messageHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const text = headerText(value);
    if (text !== undefined) messageHeaders[name] = text;
  }
  const bytes = message.value ?? Buffer.alloc(0);
  const base: Omit<DecodedMessage, 'type' | 'value'> = {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    ...(message.timestamp !== undefined ? { timestamp: new Date(Number(message.timestamp)).toISOString() } : {}),
    key: message.key ? message.key.toString() : null,
    headers: messageHeaders,
  };
  const raw = { base64: Buffer.from(bytes).toString('base64') };
  const found = codecFor(message.topic, messageHeaders);
  if (!found) return { ...base, type: null, value: raw };
  const type = typeName(found.codec);
  try {
    const value = toJson(found.codec, bytes);
    if (message.topic === topics.deadLetter) {
      const letter = mart.common.DeadLetter.decode(bytes);
      const original = decodeMessage({
        topic: letter.topic,
        partition: letter.partition,
        offset: letter.offset,
        key: Buffer.from(letter.key),
        value: Buffer.from(letter.value),
        headers: letter.headers,
      });
      (value as Record<string, unknown>).original = { type: original.type, value: original.value };
    }
    return { ...base, type, ...(found.status ? { status: found.status } : {}), value };
  } catch (error) {
    return { ...base, type, ...(found.status ? { status: found.status } : {}), value: raw, error: (error as Error).message };
  }
}

export function brokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
}

function createClient(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'mart-topics', brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } });
}

const isMartTopic = (topic: string) => topic.startsWith('mart.');

export interface TopicReport {
  topic: string;
  partitions: { partition: number; endOffset: string }[];
  groups: { groupId: string; lag: number }[];
}

/** Mart's topics with their partitions, end offsets and each consumer group's total lag. */
export async function listTopics(brokers: string[]): Promise<TopicReport[]> {
  const admin = createClient(brokers).admin();
  await admin.connect();
  try {
    const names = (await admin.listTopics()).filter(isMartTopic).sort();
    const { groups } = await admin.listGroups();
    const reports = new Map<string, TopicReport & { ends: Map<number, number> }>();
    for (const topic of names) {
      const offsets = await admin.fetchTopicOffsets(topic);
      reports.set(topic, {
        topic,
        partitions: offsets.map((o) => ({ partition: o.partition, endOffset: o.high })).sort((a, b) => a.partition - b.partition),
        groups: [],
        ends: new Map(offsets.map((o) => [o.partition, Number(o.high)])),
      });
    }
    // One call per group for all topics; a group counts for a topic once it committed there.
    for (const { groupId } of groups.sort((a, b) => a.groupId.localeCompare(b.groupId))) {
      for (const committed of await admin.fetchOffsets({ groupId, topics: names })) {
        const report = reports.get(committed.topic);
        if (!report || !committed.partitions.some((p) => Number(p.offset) >= 0)) continue;
        const lag = committed.partitions.reduce((sum, p) => {
          const end = report.ends.get(p.partition) ?? 0;
          const at = Number(p.offset);
          return sum + Math.max(0, end - (at >= 0 ? at : 0));
        }, 0);
        report.groups.push({ groupId, lag });
      }
    }
    return [...reports.values()].map(({ ends: _ends, ...report }) => report);
  } finally {
    await admin.disconnect();
  }
}

export interface TailOptions {
  fromBeginning?: boolean;
  /** Stop after this many messages. */
  max?: number;
  /** Stop after this long without reaching max (default: never). */
  timeoutMs?: number;
  onMessage(message: DecodedMessage): void;
  /** Aborts tailing. */
  signal?: AbortSignal;
}

/** Reads a topic in a throwaway consumer group (commits nothing) and decodes each message. */
export async function tailTopic(brokers: string[], topic: string, options: TailOptions): Promise<number> {
  const consumer = createClient(brokers).consumer({ groupId: `mart-topics-${randomUUID()}`, maxWaitTimeInMs: 200 });
  let count = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning ?? false });
    await new Promise<void>((resolve, reject) => {
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(resolve, options.timeoutMs);
      const finish = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      options.signal?.addEventListener('abort', finish, { once: true });
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ topic: from, partition, message }) => {
            if (options.max !== undefined && count >= options.max) return;
            count++;
            options.onMessage(decodeMessage({ topic: from, partition, ...message }));
            if (options.max !== undefined && count >= options.max) finish();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return count;
}

function printList(reports: TopicReport[]): void {
  for (const report of reports) {
    const total = report.partitions.reduce((sum, p) => sum + Number(p.endOffset), 0);
    console.log(`${report.topic}  partitions=${report.partitions.length}  messages(end offsets sum)=${total}`);
    console.log(`  end offsets: ${report.partitions.map((p) => `${p.partition}:${p.endOffset}`).join(' ')}`);
    for (const group of report.groups) console.log(`  group ${group.groupId}  lag=${group.lag}`);
  }
}

const usage = 'usage: npm run topics -- list | tail <topic> [--from-beginning] [--max N]';

export async function main(argv: string[]): Promise<number> {
  const brokers = brokersFromEnv();
  const [command, ...rest] = argv;
  if (command === 'list') {
    printList(await listTopics(brokers));
    return 0;
  }
  if (command === 'tail') {
    const topic = rest.find((arg) => !arg.startsWith('--') && rest[rest.indexOf(arg) - 1] !== '--max');
    if (!topic) {
      console.error(usage);
      return 2;
    }
    const maxIndex = rest.indexOf('--max');
    const max = maxIndex >= 0 ? Number(rest[maxIndex + 1]) : undefined;
    if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
      console.error('--max takes a positive integer');
      return 2;
    }
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    await tailTopic(brokers, topic, {
      fromBeginning: rest.includes('--from-beginning'),
      ...(max !== undefined ? { max } : {}),
      signal: controller.signal,
      onMessage: (message) => console.log(JSON.stringify(message, null, 2)),
    });
    return 0;
  }
  console.error(usage);
  return 2;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}
