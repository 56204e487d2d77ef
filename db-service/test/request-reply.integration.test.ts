import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { loadConfig } from '@mart/common/config';
import { ConflictError, NotFoundError, UnavailableError, UpstreamTimeoutError } from '@mart/common/errors';
import { RpcClient, createKafka } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { eventually, header, requiredEnv, testKafka, waitForMessage } from '@mart/common/testing';
import { headers, mart, topics } from '@mart/proto';
import { dbServiceConfigSchema } from '../src/config.ts';
import { startDbService, type RunningDbService } from '../src/db.service.ts';

const logger = createLogger('test', 'silent');
const brokers = () => requiredEnv('KAFKA_BROKERS').split(',');

function caller(service: string, instance: string, timeoutMs = 5000): RpcClient {
  return new RpcClient({
    kafka: createKafka({ clientId: `${service}-${instance}`, brokers: brokers(), logger }),
    service,
    instanceId: instance,
    timeoutMs,
    logger,
  });
}

describe('Kafka request/reply with db-service (real broker and PostgreSQL)', function () {
  this.timeout(30_000);
  const database = new pg.Pool({ connectionString: requiredEnv('DATABASE_URL'), max: 2 });
  let rpc: RpcClient;

  before(async () => {
    rpc = caller('it-caller', 'main');
    await rpc.start();
  });

  after(async () => {
    await rpc.stop();
    await database.end();
  });

  describe('with no db-service running', () => {
    it('gives a typed timeout at the deadline, not a hang', async () => {
      const started = Date.now();
      const error = await rpc.call('system.ping', {}, { timeoutMs: 400 }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UpstreamTimeoutError);
      expect(Date.now() - started).to.be.within(390, 2000);
    });

    it('fails fast with unavailable when Kafka cannot be reached', async () => {
      const dead = new RpcClient({
        kafka: createKafka({ clientId: 'dead', brokers: ['127.0.0.1:1'], logger }),
        service: 'it-dead',
        instanceId: 'x',
        timeoutMs: 10_000,
        logger,
      });
      const started = Date.now();
      const error = await dead.call('system.ping', {}).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UnavailableError);
      expect(Date.now() - started).to.be.below(5000);
    });
  });

  describe('with db-service running', () => {
    let service: RunningDbService;
    const kafka = testKafka();

    before(async () => {
      service = await startDbService(loadConfig(dbServiceConfigSchema, { ...process.env, PORT: '0', LOG_LEVEL: 'silent' }));
      // The command above was sent before db-service existed: it must be skipped as expired, not applied late.
      await rpc.call('system.ping', {}, { timeoutMs: 15_000 });
    });

    after(async () => {
      await service.stop();
    });

    it('round-trips a command and its reply', async () => {
      const id = randomUUID();
      const created = await rpc.call('brand.create', { id, name: `Round trip ${id}` });
      expect(created.id).to.equal(id);
      const read = await rpc.call('brand.get', { id });
      expect(read.name).to.equal(`Round trip ${id}`);
      expect(read.createdAt).to.equal(created.createdAt);
    });

    it('rethrows db-service errors as the same typed error', async () => {
      const missing = await rpc.call('brand.get', { id: randomUUID() }).catch((e: unknown) => e);
      expect(missing).to.be.instanceOf(NotFoundError);
      const name = `Duplicate ${randomUUID()}`;
      await rpc.call('brand.create', { id: randomUUID(), name });
      const duplicate = await rpc.call('brand.create', { id: randomUUID(), name: name.toUpperCase() }).catch((e: unknown) => e);
      expect(duplicate).to.be.instanceOf(ConflictError);
    });

    it('delivers each reply to the instance that asked, with two instances of one service', async () => {
      const a = caller('it-twins', 'a');
      const b = caller('it-twins', 'b');
      await Promise.all([a.start(), b.start()]);
      try {
        const ask = (client: RpcClient, tag: string) =>
          Promise.all(
            Array.from({ length: 25 }, async (_, i) => {
              const id = randomUUID();
              const brand = await client.call('brand.create', { id, name: `${tag}-${i}-${id}` });
              return brand.name === `${tag}-${i}-${id}`;
            }),
          );
        const [fromA, fromB] = await Promise.all([ask(a, 'a'), ask(b, 'b')]);
        expect([...fromA, ...fromB].every(Boolean)).to.equal(true);
        expect(fromA).to.have.length(25);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    });

    it('applies a retried command once and answers it with the same reply', async () => {
      const id = randomUUID();
      const commandId = randomUUID();
      const first = await rpc.call('brand.create', { id, name: `Once ${id}` }, { commandId });
      const [second, third] = await Promise.all([
        rpc.call('brand.create', { id, name: `Once ${id}` }, { commandId }),
        rpc.call('brand.create', { id, name: `Once ${id}` }, { commandId }),
      ]);
      expect(second.toJSON()).to.deep.equal(first.toJSON());
      expect(third.toJSON()).to.deep.equal(first.toJSON());
      const rows = await database.query('SELECT count(*)::int AS n FROM brands WHERE id = $1', [id]);
      expect(rows.rows[0].n).to.equal(1);
      const events = await database.query(`SELECT count(*)::int AS n FROM outbox_events WHERE type = 'brand.created' AND key = $1`, [id]);
      expect(events.rows[0].n).to.equal(1);
      const processed = await database.query('SELECT count(*)::int AS n FROM processed_commands WHERE id = $1', [commandId]);
      expect(processed.rows[0].n).to.equal(1);
    });

    it('relays the outbox event of a committed change to Kafka, and nothing for a rolled-back one', async () => {
      const id = randomUUID();
      await rpc.call('brand.create', { id, name: `Event ${id}` });
      const event = await waitForMessage(
        kafka,
        topics.brandEvents,
        (m) => header(m, headers.type) === 'brand.created' && m.key?.toString() === id,
      );
      expect(mart.brand.BrandCreated.decode(event.value!).brand?.name).to.equal(`Event ${id}`);
      expect(header(event, headers.eventId)).to.match(/^[0-9a-f-]{36}$/);

      const rejected = randomUUID();
      await rpc.call('brand.create', { id: rejected, name: `Event ${id}` }).catch(() => undefined);
      const outbox = await database.query('SELECT count(*)::int AS n FROM outbox_events WHERE key = $1', [rejected]);
      expect(outbox.rows[0].n).to.equal(0);
    });

    it('skips a command whose deadline passed before it arrived', async () => {
      const producer = kafka.producer();
      await producer.connect();
      const id = randomUUID();
      await producer.send({
        topic: topics.brandCommands,
        messages: [
          {
            key: id,
            value: Buffer.from(mart.brand.CreateBrand.encode({ id, name: `Late ${id}` }).finish()),
            headers: {
              [headers.type]: 'brand.create',
              [headers.commandId]: randomUUID(),
              [headers.correlationId]: randomUUID(),
              [headers.replyTo]: rpc.replyTopic,
              [headers.deadline]: String(Date.now() - 1000),
            },
          },
        ],
      });
      await producer.disconnect();
      // Same key, same partition: once this is answered the late command has been seen.
      await rpc.call('brand.get', { id }).catch(() => undefined);
      const rows = await database.query('SELECT count(*)::int AS n FROM brands WHERE id = $1', [id]);
      expect(rows.rows[0].n).to.equal(0);
    });

    it('sends poison messages to the dead-letter topic and keeps consuming', async () => {
      const producer = kafka.producer();
      await producer.connect();
      const marker = randomUUID();
      const common = {
        [headers.commandId]: randomUUID(),
        [headers.correlationId]: marker,
        [headers.replyTo]: rpc.replyTopic,
        [headers.deadline]: String(Date.now() + 60_000),
      };
      await producer.send({
        topic: topics.brandCommands,
        messages: [
          { key: marker, value: Buffer.from([0xff, 0xff, 0xff, 0x0f]), headers: { ...common, [headers.type]: 'brand.create' } },
          { key: marker, value: Buffer.from('hello'), headers: { ...common, [headers.type]: 'brand.explode' } },
          { key: marker, value: Buffer.from(''), headers: { [headers.type]: 'brand.create' } },
        ],
      });
      await producer.disconnect();
      const letter = await waitForMessage(
        kafka,
        topics.deadLetter,
        (m) => m.key?.toString() === marker && header(m, 'mart-dead-letter-reason')?.startsWith('undecodable') === true,
      );
      const decoded = mart.common.DeadLetter.decode(letter.value!);
      expect(decoded.topic).to.equal(topics.brandCommands);
      expect(decoded.headers[headers.type]).to.equal('brand.create');
      await waitForMessage(
        kafka,
        topics.deadLetter,
        (m) => m.key?.toString() === marker && header(m, 'mart-dead-letter-reason')?.startsWith('unknown command type') === true,
      );
      await waitForMessage(
        kafka,
        topics.deadLetter,
        (m) => m.key?.toString() === marker && header(m, 'mart-dead-letter-reason')?.includes('mart-command-id') === true,
      );

      // The partition moved on: a valid command on the same key is still answered.
      const id = randomUUID();
      const brand = await rpc.call('brand.create', { id, name: `After poison ${id}` });
      expect(brand.id).to.equal(id);
      const written = await database.query('SELECT count(*)::int AS n FROM brands WHERE name LIKE $1', [`%${marker}%`]);
      expect(written.rows[0].n).to.equal(0);
    });

    it('shares the command partitions between two db-service instances', async function () {
      this.timeout(60_000);
      const second = await startDbService(
        loadConfig(dbServiceConfigSchema, { ...process.env, PORT: '0', LOG_LEVEL: 'silent', INSTANCE_ID: 'second-instance' }),
      );
      try {
        // Pings carry no key, so they spread over partitions; once the group has rebalanced
        // both instances answer some of them.
        const seen = new Set<string>();
        await eventually(
          async () => {
            const pongs = await Promise.all(
              Array.from({ length: 12 }, () => rpc.call('system.ping', {}, { timeoutMs: 10_000 }).catch(() => undefined)),
            );
            for (const pong of pongs) if (pong) seen.add(pong.instance);
            return seen.size >= 2;
          },
          'pongs from both instances',
          { timeoutMs: 45_000, intervalMs: 0 },
        );
        expect([...seen]).to.include('second-instance');
        expect(seen.size).to.equal(2);
      } finally {
        await second.stop();
      }
    });

    it('drops a late reply quietly and keeps serving', async () => {
      const late = await rpc.call('brand.list', { page: { page: 1, pageSize: 1 } }, { timeoutMs: 1 }).catch((e: unknown) => e);
      expect(late).to.be.instanceOf(UpstreamTimeoutError);
      const page = await rpc.call('brand.list', { page: { page: 1, pageSize: 1 } });
      expect(page.items).to.have.length(1);
    });
  });
});
