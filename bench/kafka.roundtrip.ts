/**
 * Baseline B2 of `npm run bench`, run as a child process: the bare Kafka round trip that Mart's
 * rpc makes, with no database and no HTTP. A caller produces to an "ask" topic, an echo consumer
 * produces each message to an "answer" topic, and the caller's consumer resolves the request:
 * produce → consume → produce → consume, with @mart/common's client settings and Mart's partition counts.
 * Prints one JSON RawRun on stdout.
 *
 *   echo '<RoundTripPlan as JSON>' | tsx bench/kafka.roundtrip.ts
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createKafka, createProducer } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { partitions } from '@mart/proto';
import { drive, type DrivePlan } from './drive.ts';
import { measuredWindow, report } from './window.ts';

export interface RoundTripPlan extends DrivePlan {
  brokers: string;
  seconds: number;
  warmupSeconds: number;
}

const plan = JSON.parse(fs.readFileSync(0, 'utf8')) as RoundTripPlan;
// Mart's own client factories and partition counts: an "ask" topic shaped like a command topic,
// an "answer" topic shaped like a reply topic, and an echo consuming its partitions side by side.
const kafka = createKafka({ clientId: 'bench-roundtrip', brokers: plan.brokers.split(','), logger: createLogger('bench', 'silent') });
const admin = kafka.admin();
await admin.connect();
const suffix = randomUUID().slice(0, 8);
const [ask, answer] = [`bench.ask.${suffix}`, `bench.answer.${suffix}`];
await admin.createTopics({
  waitForLeaders: true,
  topics: [
    { topic: ask, numPartitions: partitions.commands },
    { topic: answer, numPartitions: partitions.replies },
  ],
});
const producer = createProducer(kafka);
const echoProducer = createProducer(kafka);
const echo = kafka.consumer({ groupId: `bench-echo-${suffix}`, maxWaitTimeInMs: 100 });
const replies = kafka.consumer({ groupId: `bench-replies-${suffix}`, maxWaitTimeInMs: 100 });
await Promise.all([producer.connect(), echoProducer.connect(), echo.connect(), replies.connect()]);
await echo.subscribe({ topic: ask, fromBeginning: true });
await replies.subscribe({ topic: answer, fromBeginning: true });
const waiting = new Map<string, () => void>();
await echo.run({
  autoCommitInterval: 1000,
  partitionsConsumedConcurrently: partitions.commands,
  eachMessage: async ({ message }) =>
    void (await echoProducer.send({ topic: answer, messages: [{ key: message.key, value: message.value }] })),
});
await replies.run({ autoCommitInterval: 1000, eachMessage: async ({ message }) => waiting.get(message.key!.toString())?.() });

const timeoutMs = 10_000;
function roundTrip(): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const key = randomUUID();
    const timer = setTimeout(() => {
      waiting.delete(key);
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    waiting.set(key, () => {
      clearTimeout(timer);
      waiting.delete(key);
      resolve();
    });
    producer.send({ topic: ask, messages: [{ key, value: Buffer.from('ping') }] }).catch(reject);
  });
}

try {
  // The first round trip waits for both consumers to own their partitions.
  await roundTrip().catch(() => undefined);
  if (plan.warmupSeconds > 0) await drive(plan, plan.warmupSeconds, roundTrip);
  report(await measuredWindow(() => drive(plan, plan.seconds, roundTrip)));
} finally {
  await Promise.all([echo.disconnect(), replies.disconnect(), producer.disconnect(), echoProducer.disconnect()]);
  await admin.deleteTopics({ topics: [ask, answer] });
  await admin.disconnect();
}
