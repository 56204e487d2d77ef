/**
 * Issue 2's figures: the latency of one `GET /brands/:id` through the whole architecture
 * (HTTP → Kafka → db-service → PostgreSQL → Kafka → HTTP), at low load, sequentially, next to
 * the same read done directly with Prisma and a bare Kafka round trip with no database.
 *
 *   npm run bench -- [--requests 2000] [--warmup 300]
 *
 * Starts its own broker, database (mart_bench, recreated) and services on ports +20000,
 * unless KAFKA_BROKERS is set. Prints a table and writes bench/results/roundtrip-<time>.json.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { noDelaySocketFactory } from '@mart/common';
import { mintToken } from '@mart/common/testing';
import { createDatabase } from '../db-service/src/database.ts';
import { rssMiB, saveResults, startBenchStack } from './bench.stack.ts';
import { summarize, timeSequential, type LatencySummary } from './stats.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '300' } } });
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mart_bench';
const { stack, readyMs, stop } = await startBenchStack({
  name: 'roundtrip',
  databaseUrl,
  services: ['db-service', 'brand-service'],
  ports: { 'db-service': 28011, 'brand-service': 28004 },
  kafkaPort: 29192,
  allowExternalKafka: true,
});

try {
  const brandUrl = stack.urls['brand-service']!;
  const token = mintToken(fs.readFileSync(stack.keys.privateKeyFile, 'utf8'), { kind: 'user', role: 'staff' });
  const created = await fetch(`${brandUrl}/brands`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Bench ${randomUUID()}`, description: 'benchmark brand' }),
  });
  if (created.status !== 201) throw new Error(`could not create the benchmark brand: ${created.status} ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };

  const results: Record<string, LatencySummary> = {};

  results['GET /brands/:id via Mart (HTTP+Kafka+db-service)'] = await timeSequential(requests, warmup, async () => {
    const response = await fetch(`${brandUrl}/brands/${id}`);
    if (response.status !== 200) throw new Error(`unexpected status ${response.status}`);
    await response.arrayBuffer();
  });

  const prisma = createDatabase(databaseUrl, 2);
  results['same read with Prisma in one process'] = await timeSequential(requests, warmup, () =>
    prisma.brand.findUniqueOrThrow({ where: { id } }),
  );
  await prisma.$disconnect();

  results['bare Kafka round trip (no database)'] = await kafkaRoundTrip(stack.brokers, requests, warmup);

  const rss = rssMiB(stack);

  console.log(`\nMart round trip, ${requests} sequential requests after ${warmup} warm-up, ${os.cpus().length} cores\n`);
  console.table(
    Object.fromEntries(
      Object.entries(results).map(([name, s]) => [
        name,
        { 'p50 ms': s.p50, 'p90 ms': s.p90, 'p99 ms': s.p99, 'max ms': s.max, 'mean ms': s.mean },
      ]),
    ),
  );
  console.log(`stack start to all-ready: ${(readyMs / 1000).toFixed(1)} s (broker ${stack.kafkaPid ? 'started here' : 'external'})`);
  console.log('RSS MiB:', rss);

  saveResults('roundtrip', { requests, warmup, readyMs, rssMiB: rss, results });
} finally {
  await stop();
}

/** produce → consume → produce → consume between two kafkajs clients, as Mart's rpc does, minus the database. */
async function kafkaRoundTrip(brokers: string, count: number, warm: number): Promise<LatencySummary> {
  const kafka = new Kafka({
    clientId: 'bench',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    socketFactory: noDelaySocketFactory,
  });
  const admin = kafka.admin();
  await admin.connect();
  const suffix = randomUUID().slice(0, 8);
  const [ask, answer] = [`bench.ask.${suffix}`, `bench.answer.${suffix}`];
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: ask, numPartitions: 1 },
      { topic: answer, numPartitions: 1 },
    ],
  });
  const producer = kafka.producer();
  const echoProducer = kafka.producer();
  const echo = kafka.consumer({ groupId: `bench-echo-${suffix}`, maxWaitTimeInMs: 100 });
  const replies = kafka.consumer({ groupId: `bench-replies-${suffix}`, maxWaitTimeInMs: 100 });
  await Promise.all([producer.connect(), echoProducer.connect(), echo.connect(), replies.connect()]);
  await echo.subscribe({ topic: ask, fromBeginning: true });
  await replies.subscribe({ topic: answer, fromBeginning: true });
  const waiting = new Map<string, () => void>();
  await echo.run({
    autoCommitInterval: 1000,
    eachMessage: async ({ message }) =>
      void (await echoProducer.send({ topic: answer, messages: [{ key: message.key, value: message.value }] })),
  });
  await replies.run({ autoCommitInterval: 1000, eachMessage: async ({ message }) => waiting.get(message.key!.toString())?.() });
  const once = () =>
    new Promise<void>((resolve) => {
      const key = randomUUID();
      waiting.set(key, resolve);
      void producer.send({ topic: ask, messages: [{ key, value: Buffer.from('ping') }] });
    });
  const summary = await timeSequential(count, warm, once);
  await Promise.all([echo.disconnect(), replies.disconnect(), producer.disconnect(), echoProducer.disconnect()]);
  await admin.deleteTopics({ topics: [ask, answer] });
  await admin.disconnect();
  return summary;
}

export { summarize };
