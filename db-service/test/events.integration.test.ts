import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { loadConfig } from '@mart/common/config';
import { UnavailableError, ValidationError } from '@mart/common/errors';
import { EventConsumer, RpcClient, commandIdFor, createKafka } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { eventually, header, requiredEnv, testKafka, waitForMessage } from '@mart/common/testing';
import { headers, mart, topics } from '@mart/proto';
import { dbServiceConfigSchema } from '../src/config.ts';
import { createDatabase } from '../src/database.ts';
import { startDbService, type RunningDbService } from '../src/db.service.ts';

const logger = createLogger('test', 'silent');

describe('EventConsumer over the outbox (real broker and PostgreSQL)', function () {
  this.timeout(40_000);
  const kafka = () =>
    createKafka({ clientId: `events-${randomUUID().slice(0, 6)}`, brokers: requiredEnv('KAFKA_BROKERS').split(','), logger });
  let service: RunningDbService;
  let rpc: RpcClient;

  before(async () => {
    service = await startDbService(loadConfig(dbServiceConfigSchema, { ...process.env, PORT: '0', LOG_LEVEL: 'silent' }));
    rpc = new RpcClient({ kafka: kafka(), service: 'it-events', instanceId: 'one', timeoutMs: 10_000, logger });
    await rpc.start();
  });

  after(async () => {
    await rpc.stop();
    await service.stop();
  });

  it('delivers each committed change as a typed event, retries transient failures in place, dead-letters rejects', async () => {
    const tag = randomUUID();
    const seen = new Map<string, number>();
    let flaky = 2;
    const consumer = new EventConsumer({
      kafka: kafka(),
      groupId: `it-events-${tag}`,
      logger,
      maxBackoffMs: 200,
      handlers: {
        'brand.created': async (event, meta) => {
          const name = event.brand?.name ?? '';
          if (!name.includes(tag)) return;
          expect(meta.eventId).to.match(/^[0-9a-f-]{36}$/);
          if (name.includes('flaky') && flaky-- > 0) throw new UnavailableError('db-service is restarting');
          if (name.includes('reject')) throw new ValidationError([{ path: 'name', message: 'not for us' }]);
          seen.set(name, (seen.get(name) ?? 0) + 1);
        },
      },
    });
    await consumer.start();
    try {
      for (const kind of ['plain', 'flaky', 'reject', 'after'])
        await rpc.call('brand.create', { id: randomUUID(), name: `${kind} ${tag}` });
      // Events of different brands travel on different partitions, which are handled independently.
      await eventually(() => ['plain', 'flaky', 'after'].every((kind) => seen.has(`${kind} ${tag}`)), 'every event handled');
      expect(seen.get(`plain ${tag}`)).to.equal(1);
      expect(seen.get(`flaky ${tag}`)).to.equal(1);
      expect(seen.has(`reject ${tag}`)).to.equal(false);
      const letter = await waitForMessage(testKafka(), topics.deadLetter, (m) =>
        (header(m, 'mart-dead-letter-reason') ?? '').startsWith('rejected brand.created: validation_failed'),
      );
      expect(header(letter, 'mart-source-topic')).to.equal(topics.brandEvents);
    } finally {
      await consumer.stop();
    }
  });

  it('dead-letters a message on an event topic that is not a Mart event and keeps going', async () => {
    const tag = randomUUID();
    let received = 0;
    const consumer = new EventConsumer({
      kafka: kafka(),
      groupId: `it-poison-${tag}`,
      logger,
      handlers: { 'brand.created': async (event) => void (event.brand?.name === `ok ${tag}` && received++) },
    });
    await consumer.start();
    try {
      const producer = testKafka().producer();
      await producer.connect();
      await producer.send({
        topic: topics.brandEvents,
        messages: [{ key: tag, value: Buffer.from('garbage'), headers: { [headers.type]: 'brand.created' } }],
      });
      await producer.disconnect();
      await rpc.call('brand.create', { id: randomUUID(), name: `ok ${tag}` });
      await eventually(() => received === 1, 'the event handled once');
      await waitForMessage(testKafka(), topics.deadLetter, (m) => m.key?.toString() === tag);
    } finally {
      await consumer.stop();
    }
  });

  it('dead-letters an outbox row whose topic does not exist instead of blocking every later event', async () => {
    const { prisma } = createDatabase(requiredEnv('DATABASE_URL'), 1);
    const stray = randomUUID();
    try {
      await prisma.outboxEvent.create({
        data: { eventId: stray, topic: 'mart.no-such.events', key: stray, type: 'brand.created', payload: new Uint8Array([1, 2, 3]) },
      });
      const id = randomUUID();
      await rpc.call('brand.create', { id, name: `after stray ${id}` });
      // Written after the stray row, published all the same.
      await waitForMessage(testKafka(), topics.brandEvents, (m) => m.key?.toString() === id);
      const letter = await waitForMessage(testKafka(), topics.deadLetter, (m) => m.key?.toString() === stray);
      expect(header(letter, 'mart-dead-letter-reason')).to.equal('unknown outbox topic: mart.no-such.events');
      expect(mart.common.DeadLetter.decode(letter.value!).topic).to.equal('mart.no-such.events');
    } finally {
      await prisma.outboxEvent.deleteMany({ where: { eventId: stray } });
      await prisma.$disconnect();
    }
  });

  it('derives the same command id from the same event, so a redelivered event applies once', () => {
    const event = randomUUID();
    expect(commandIdFor(event, 'pay-order')).to.equal(commandIdFor(event, 'pay-order'));
    expect(commandIdFor(event, 'pay-order')).not.to.equal(commandIdFor(event, 'commit-stock'));
    expect(commandIdFor(event, 'x')).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
