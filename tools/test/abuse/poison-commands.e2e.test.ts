import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Admin, IHeaders, KafkaMessage, Producer } from 'kafkajs';
import pg from 'pg';
import { requiredEnv } from '@mart/common/testing';
import { commands, events, headers, mart, topics, type CommandName, type CommandRequest, type EventName } from '@mart/proto';
import { TopicReader, header, settledChecksums, subscriptions, tableChecksums, testKafka } from './poison.harness.ts';

/*
 * Poison and forged messages on every command topic of the registry, and on every event topic a
 * service of the running stack consumes. What db-service's CommandServer (common/src/kafka/
 * command.server.ts) must do with each kind, decided from its contract:
 *
 * - dead letter: a message it cannot take as a command (no value, undecodable, unknown or
 *   misplaced type, a missing or malformed command id, correlation id, reply-to or deadline)
 *   goes to mart.dead-letter with the reason; when reply-to and correlation id are usable the
 *   caller also gets a bad_request error reply, so it need not wait for its deadline.
 * - error reply: a message that decodes as its type is a command. When its content is wrong
 *   (non-UUID id, negative quantity, all fields empty) the handler rejects it with a client error
 *   code, never `internal`, and its transaction (with the processed_commands claim) rolls back.
 * - skipped: a command whose deadline has passed is neither applied, answered nor dead-lettered.
 *
 * In every case the partition moves on (a valid query sent afterwards with the same key is
 * answered) and no table changes. Protobuf carries no type in its bytes, so a request of another
 * command that happens to decode under this type's header is a valid command, not a poison one;
 * the type/topic mismatch tested here is a type header naming a command of another topic.
 */

const replyTimeoutMs = 20_000;
const caseHeader = 'mart-test-case';
/** Just under the broker's default max.message.bytes (1 MiB). */
const nearLimitBytes = 900 * 1024;
/** Stands for a deadline a minute after the message is sent: cases are built when mocha loads the file. */
const freshDeadline = 'fresh';
const clientErrors = ['validation_failed', 'bad_request', 'not_found', 'conflict', 'invalid_state', 'insufficient_stock'];

interface Sample {
  name: CommandName;
  request: unknown;
}

function sample<N extends CommandName>(name: N, request: CommandRequest<N>): Sample {
  return { name, request };
}

function encode({ name, request }: Sample): Buffer {
  return Buffer.from((commands[name].request.encode as (message: unknown) => { finish(): Uint8Array })(request).finish());
}

function decodes(name: CommandName, bytes: Buffer): boolean {
  try {
    commands[name].request.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** One mutation per command topic that decodes as its type but that db-service must refuse, with why. */
const refused: Partial<Record<string, Sample & { why: string }>> = {
  [topics.brandCommands]: { why: 'non-UUID id', ...sample('brand.create', { id: 'not-a-uuid', name: 'Poison brand' }) },
  [topics.categoryCommands]: { why: 'non-UUID id', ...sample('category.create', { id: 'not-a-uuid', name: 'Poison category' }) },
  [topics.productCommands]: {
    why: 'negative price',
    ...sample('product.create', {
      id: randomUUID(),
      sku: `POISON-${randomUUID().slice(0, 8)}`,
      name: 'Poison product',
      description: '',
      priceCents: -100,
      currency: 'EUR',
      brandId: randomUUID(),
      categoryId: randomUUID(),
      active: true,
    }),
  },
  [topics.userCommands]: {
    why: 'non-UUID id',
    ...sample('user.create', {
      id: 'not-a-uuid',
      email: 'poison-user@test.mart',
      name: 'Poison',
      passwordHash: 'x',
      role: mart.user.StaffRole.STAFF_ROLE_ADMIN,
    }),
  },
  [topics.customerCommands]: {
    why: 'non-UUID id',
    ...sample('customer.register', { id: 'not-a-uuid', email: 'poison-customer@test.mart', name: 'Poison', passwordHash: 'x' }),
  },
  [topics.authCommands]: {
    why: 'non-UUID ids and a non-date expiry',
    ...sample('auth.issue-refresh-token', {
      id: 'not-a-uuid',
      familyId: 'not-a-uuid',
      principalId: 'not-a-uuid',
      kind: mart.auth.PrincipalKind.PRINCIPAL_KIND_CUSTOMER,
      tokenHash: 'x',
      expiresAt: 'not-a-date',
    }),
  },
  [topics.inventoryCommands]: {
    why: 'negative stock',
    ...sample('inventory.set', { productId: randomUUID(), onHand: -5, actorId: randomUUID() }),
  },
  [topics.orderCommands]: {
    why: 'negative quantity',
    ...sample('order.place', {
      id: randomUUID(),
      customerId: randomUUID(),
      lines: [{ productId: randomUUID(), quantity: -3 }],
      ttlSeconds: 900,
    }),
  },
  [topics.paymentCommands]: {
    why: 'non-UUID order id',
    ...sample('payment.create', {
      id: randomUUID(),
      orderId: 'not-a-uuid',
      customerId: randomUUID(),
      provider: mart.payment.PaymentProvider.PAYMENT_PROVIDER_SIMULATED,
    }),
  },
  [topics.notificationCommands]: {
    why: 'non-UUID id',
    ...sample('notification.record-attempt', { id: 'not-a-uuid', sent: true, providerMessageId: 'poison', provider: 'local' }),
  },
};

const commandTopics = [...new Set(Object.values(commands).map((definition) => definition.topic))];
const namesOn = (topic: string) => (Object.keys(commands) as CommandName[]).filter((name) => commands[name].topic === topic);

/** A field number no Mart message uses, length-delimited: decoders skip it, so it only adds bytes. */
function unknownField(size: number): Buffer {
  const varint = (n: number) => {
    const bytes: number[] = [];
    for (; n > 127; n >>>= 7) bytes.push((n & 127) | 128);
    bytes.push(n);
    return Buffer.from(bytes);
  };
  return Buffer.concat([varint((4000 << 3) | 2), varint(size), Buffer.alloc(size, 0x61)]);
}

/** Bytes that do not decode as `name`: random until one fails, so the expectation is certain. */
function undecodable(name: CommandName | ((bytes: Buffer) => boolean)): Buffer {
  const ok = typeof name === 'function' ? name : (bytes: Buffer) => decodes(name, bytes);
  for (;;) {
    const bytes = randomBytes(64);
    if (!ok(bytes)) return bytes;
  }
}

/** The encoded request cut short until it no longer decodes (a torn length-delimited field). */
function truncated(base: Sample, as: CommandName): Buffer {
  const bytes = encode(base);
  for (let length = bytes.length - 1; length > 0; length--) if (!decodes(as, bytes.subarray(0, length))) return bytes.subarray(0, length);
  throw new Error(`no truncation of ${base.name} fails to decode as ${as}`);
}

type Outcome =
  | { kind: 'dead-letter'; reason: RegExp; reply: boolean }
  | { kind: 'error-reply' }
  | { kind: 'reply' }
  | { kind: 'skipped' }
  | { kind: 'refused-by-broker' };

interface PoisonCase {
  kind: string;
  value: Buffer | null;
  headers: Record<string, string | undefined>;
  expect: Outcome;
  /** Filled in when sent. */
  marker: string;
  sendError?: unknown;
}

/** The kinds of poison for one command topic; every one is sent with the topic's test key. */
function poisonFor(topic: string, replyTo: string): PoisonCase[] {
  const names = namesOn(topic);
  const base: Sample = refused[topic] ?? { name: names[0]!, request: {} };
  const isMutation = commands[base.name].mutation;
  const foreign = commandTopics.find((other) => other !== topic && refused[other])!;
  const foreignSample = refused[foreign]!;
  const answered: Outcome = isMutation ? { kind: 'error-reply' } : { kind: 'reply' };
  const dead = (reason: RegExp, reply = true): Outcome => ({ kind: 'dead-letter', reason, reply });
  const valid = () => ({
    [headers.type]: base.name,
    [headers.commandId]: randomUUID(),
    [headers.correlationId]: randomUUID(),
    [headers.replyTo]: replyTo,
    [headers.deadline]: freshDeadline,
  });
  const without = (name: string, value?: string) => ({ ...valid(), [name]: value });
  const cases: Omit<PoisonCase, 'marker'>[] = [
    { kind: 'random bytes', value: undecodable(base.name), headers: valid(), expect: dead(new RegExp(`^undecodable ${base.name}`)) },
    { kind: 'empty value (all-default request)', value: Buffer.alloc(0), headers: valid(), expect: answered },
    { kind: 'null value (tombstone)', value: null, headers: valid(), expect: dead(/^no value/) },
    {
      kind: 'truncated protobuf',
      value: truncated(refused[topic] ?? foreignSample, base.name),
      headers: valid(),
      expect: dead(new RegExp(`^undecodable ${base.name}`)),
    },
    {
      kind: `type of another topic's command (${foreignSample.name})`,
      value: encode(foreignSample),
      headers: { ...valid(), [headers.type]: foreignSample.name },
      expect: dead(new RegExp(`^command ${foreignSample.name} does not belong on ${topic.replace(/\./g, '\\.')}`)),
    },
    {
      kind: 'unknown type',
      value: encode(base),
      headers: without(headers.type, `${topic.split('.')[1]}.explode`),
      expect: dead(/^unknown command type/),
    },
    { kind: 'missing type', value: encode(base), headers: without(headers.type), expect: dead(/^unknown command type: \(none\)/) },
    { kind: 'missing command id', value: encode(base), headers: without(headers.commandId), expect: dead(/mart-command-id/) },
    {
      kind: 'malformed command id',
      value: encode(base),
      headers: without(headers.commandId, 'not-a-uuid'),
      expect: dead(/mart-command-id/),
    },
    {
      kind: 'missing correlation id',
      value: encode(base),
      headers: without(headers.correlationId),
      expect: dead(/mart-correlation-id/, false),
    },
    { kind: 'missing reply-to', value: encode(base), headers: without(headers.replyTo), expect: dead(/mart-reply-to/, false) },
    {
      kind: 'reply-to an event topic',
      value: encode(base),
      headers: without(headers.replyTo, topics.orderEvents),
      expect: dead(/mart-reply-to/, false),
    },
    { kind: 'missing deadline', value: encode(base), headers: without(headers.deadline), expect: dead(/mart-deadline/) },
    { kind: 'empty deadline', value: encode(base), headers: without(headers.deadline, ''), expect: dead(/mart-deadline/) },
    { kind: 'malformed deadline', value: encode(base), headers: without(headers.deadline, 'tomorrow'), expect: dead(/mart-deadline/) },
    {
      kind: 'expired deadline',
      value: encode(base),
      headers: without(headers.deadline, String(Date.now() - 1000)),
      expect: { kind: 'skipped' },
    },
    {
      kind: `near the size limit (${nearLimitBytes / 1024} KiB)`,
      value: Buffer.concat([encode(base), unknownField(nearLimitBytes)]),
      headers: valid(),
      expect: answered,
    },
    {
      kind: 'over the size limit (2 MiB)',
      value: Buffer.concat([encode(base), unknownField(2 * 1024 * 1024)]),
      headers: valid(),
      expect: { kind: 'refused-by-broker' },
    },
  ];
  if (refused[topic]) {
    cases.push({
      kind: `semantically invalid ${base.name} (${refused[topic].why})`,
      value: encode(base),
      headers: valid(),
      expect: answered,
    });
  }
  return cases.map((poison) => ({ ...poison, marker: randomUUID() }));
}

async function send(producer: Producer, topic: string, key: string, poison: PoisonCase): Promise<void> {
  const messageHeaders: IHeaders = { [caseHeader]: poison.marker };
  for (const [name, value] of Object.entries(poison.headers)) {
    if (value !== undefined) messageHeaders[name] = value === freshDeadline ? String(Date.now() + 60_000) : value;
  }
  try {
    await producer.send({ topic, messages: [{ key, value: poison.value, headers: messageHeaders }] });
  } catch (error) {
    poison.sendError = error;
  }
}

describe('abuse: poison and forged Kafka messages (running stack)', function () {
  this.timeout(60_000);
  const kafka = testKafka();
  const db = new pg.Pool({ connectionString: requiredEnv('DATABASE_URL'), max: 2 });
  const replyTo = `mart.replies.poison-test-${randomUUID().slice(0, 8)}`;
  let admin: Admin;
  let producer: Producer;
  let deadLetters: TopicReader;
  let replies: TopicReader;
  let baseline: Record<string, string>;
  const sentCommandIds: string[] = [];

  const deadLetterOf = (marker: string) => (message: KafkaMessage) =>
    mart.common.DeadLetter.decode(message.value!).headers[caseHeader] === marker;
  const answerTo = (correlationId: string | undefined) => (message: KafkaMessage) =>
    correlationId !== undefined && header(message, headers.correlationId) === correlationId;

  before(async function () {
    this.timeout(120_000);
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: replyTo, numPartitions: 1 }] });
    producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    deadLetters = new TopicReader(kafka, [topics.deadLetter]);
    replies = new TopicReader(kafka, [replyTo]);
    await Promise.all([deadLetters.start(), replies.start()]);
    baseline = await settledChecksums(db);
  });

  after(async () => {
    await Promise.allSettled([deadLetters?.stop(), replies?.stop(), producer?.disconnect()]);
    await admin?.deleteTopics({ topics: [replyTo] }).catch(() => undefined);
    await admin?.disconnect();
    await db.end();
  });

  for (const topic of commandTopics) {
    describe(`command topic ${topic}`, () => {
      const cases = poisonFor(topic, replyTo);
      const key = `poison-${randomUUID()}`;
      const follower = namesOn(topic).find((name) => !commands[name].mutation)!;
      const followUp = randomUUID();

      before(async function () {
        this.timeout(replyTimeoutMs + 30_000);
        for (const poison of cases) {
          const commandId = poison.headers[headers.commandId];
          if (commandId) sentCommandIds.push(commandId);
          await send(producer, topic, key, poison);
        }
        // Same key, same partition, sent last: its reply means every case before it was handled.
        const value = encode({ name: follower, request: {} });
        await producer.send({
          topic,
          messages: [
            {
              key,
              value,
              headers: {
                [headers.type]: follower,
                [headers.commandId]: randomUUID(),
                [headers.correlationId]: followUp,
                [headers.replyTo]: replyTo,
                [headers.deadline]: String(Date.now() + replyTimeoutMs),
              },
            },
          ],
        });
        await replies.waitFor(`the reply to ${follower} sent after the poison`, answerTo(followUp), replyTimeoutMs);
        await Promise.all([deadLetters.caughtUp(admin), replies.caughtUp(admin)]);
      });

      it(`keeps consuming: a ${follower} sent afterwards on the same partition is answered`, () => {
        expect(replies.messages.some(({ message }) => answerTo(followUp)(message))).to.equal(true);
      });

      for (const poison of cases) {
        it(`${poison.kind}: ${describeOutcome(poison.expect)}`, () => {
          const letters = deadLetters.messages.filter(({ message }) => deadLetterOf(poison.marker)(message));
          const answers = replies.messages.filter(({ message }) => answerTo(poison.headers[headers.correlationId])(message));
          const expected = poison.expect;
          switch (expected.kind) {
            case 'dead-letter': {
              expect(poison.sendError, 'send').to.equal(undefined);
              expect(letters, 'dead letters').to.have.length(1);
              const letter = mart.common.DeadLetter.decode(letters[0]!.message.value!);
              expect(letter.reason).to.match(expected.reason);
              expect(header(letters[0]!.message, 'mart-dead-letter-reason')).to.equal(letter.reason);
              expect(letter.topic).to.equal(topic);
              expect(Buffer.from(letter.value).equals(poison.value ?? Buffer.alloc(0)), 'the original value is kept').to.equal(true);
              if (expected.reply) {
                expect(answers, 'a bad_request reply').to.have.length(1);
                expect(header(answers[0]!.message, headers.status)).to.equal('error');
                expect(mart.common.Error.decode(answers[0]!.message.value!).code).to.equal('bad_request');
              } else {
                expect(answers, 'replies').to.have.length(0);
              }
              break;
            }
            case 'error-reply':
            case 'reply': {
              expect(poison.sendError, 'send').to.equal(undefined);
              expect(letters, 'dead letters').to.have.length(0);
              expect(answers, 'replies').to.have.length(1);
              if (expected.kind === 'error-reply' || header(answers[0]!.message, headers.status) === 'error') {
                expect(header(answers[0]!.message, headers.status)).to.equal('error');
                const error = mart.common.Error.decode(answers[0]!.message.value!);
                expect(clientErrors, `error code (${error.message})`).to.include(error.code);
              }
              break;
            }
            case 'skipped':
              expect(poison.sendError, 'send').to.equal(undefined);
              expect(letters, 'dead letters').to.have.length(0);
              expect(answers, 'replies').to.have.length(0);
              break;
            case 'refused-by-broker':
              expect(String(poison.sendError)).to.match(/too large|larger than/i);
              expect(letters, 'dead letters').to.have.length(0);
              expect(answers, 'replies').to.have.length(0);
              break;
          }
        });
      }
    });
  }

  describe('event topics that services consume', () => {
    const cases: { topic: string; kind: string; marker: string; expect: RegExp | null }[] = [];
    let consumed: string[] = [];

    before(async function () {
      this.timeout(60_000);
      const eventTopics = new Set<string>(Object.values(events).map((definition) => definition.topic));
      const groups = await subscriptions(admin);
      consumed = [...groups.keys()].filter((topic) => eventTopics.has(topic)).sort();
      for (const topic of consumed) {
        const key = `poison-${randomUUID()}`;
        const typesHere = (Object.keys(events) as EventName[]).filter((name) => events[name].topic === topic);
        const poison = async (kind: string, value: Buffer | null, messageHeaders: Record<string, string>, expected: RegExp | null) => {
          const marker = randomUUID();
          cases.push({ topic, kind, marker, expect: expected });
          await producer.send({ topic, messages: [{ key, value, headers: { ...messageHeaders, [caseHeader]: marker } }] });
        };
        const eventId = () => ({ [headers.eventId]: randomUUID() });
        await poison('random bytes, no headers', randomBytes(64), {}, /^not a Mart event: type=\(none\)/);
        await poison(
          'unknown type',
          randomBytes(16),
          { [headers.type]: 'order.exploded', ...eventId() },
          /^not a Mart event: type=order\.exploded/,
        );
        await poison(
          'a command type on an event topic',
          randomBytes(16),
          { [headers.type]: 'order.place', ...eventId() },
          /^not a Mart event/,
        );
        await poison('null value (tombstone)', null, { [headers.type]: typesHere[0]!, ...eventId() }, /^no value \(tombstone\)/);
        await poison('missing event id', Buffer.alloc(0), { [headers.type]: typesHere[0]! }, /id=\(none\)/);
        for (const type of typesHere) {
          const bytes = undecodable((b) => {
            try {
              events[type].type.decode(b);
              return true;
            } catch {
              return false;
            }
          });
          // Only the consumers with a handler for the type decode it: at least one per topic must.
          await poison(`undecodable ${type}`, bytes, { [headers.type]: type, ...eventId() }, null);
        }
        if (topic === topics.paymentEvents) {
          // payment-service checks the refund with db-service before it asks the provider for money.
          const forged = mart.payment.RefundRequested.encode({
            payment: { id: randomUUID(), orderId: randomUUID(), providerPaymentId: 'pi_forged' },
            refund: { id: randomUUID(), amountCents: 100_000, status: mart.payment.RefundStatus.REFUND_STATUS_PENDING },
          }).finish();
          await poison(
            'forged refund request for a payment that does not exist',
            Buffer.from(forged),
            { [headers.type]: 'payment.refund-requested', ...eventId() },
            /^rejected payment\.refund-requested: not_found/,
          );
        }
        // Sent last on the same partition: once it is dead-lettered, everything before it was handled.
        await poison('sentinel (unknown type)', Buffer.alloc(0), { [headers.type]: 'sentinel.poison', ...eventId() }, /^not a Mart event/);
      }
      await Promise.all(
        cases
          .filter(({ kind }) => kind.startsWith('sentinel'))
          .map(({ marker, topic }) => deadLetters.waitFor(`the sentinel on ${topic}`, deadLetterOf(marker), replyTimeoutMs)),
      );
      await deadLetters.caughtUp(admin);
    });

    it('finds the consumed event topics from the running consumer groups', () => {
      expect(consumed).to.include.members([topics.paymentEvents, topics.notificationEvents]);
    });

    it('dead-letters every poison event with its reason, on every consumed event topic', () => {
      const failures: string[] = [];
      for (const poison of cases.filter(({ expect: expected }) => expected)) {
        const letters = deadLetters.messages.filter(({ message }) => deadLetterOf(poison.marker)(message));
        const reasons = letters.map(({ message }) => mart.common.DeadLetter.decode(message.value!).reason);
        if (letters.length === 0 || !reasons.every((reason) => poison.expect!.test(reason)))
          failures.push(`${poison.topic} ${poison.kind}: ${reasons.join('; ') || 'no dead letter'}`);
      }
      expect(failures).to.deep.equal([]);
    });

    it('dead-letters undecodable events of the types a consumer handles, on every consumed event topic', () => {
      for (const topic of consumed) {
        const undecodableCases = cases.filter((poison) => poison.topic === topic && poison.kind.startsWith('undecodable'));
        const lettered = undecodableCases.filter(({ marker }) =>
          deadLetters.messages.some(
            ({ message }) =>
              deadLetterOf(marker)(message) && mart.common.DeadLetter.decode(message.value!).reason.startsWith('undecodable'),
          ),
        );
        expect(lettered.length, `${topic}: undecodable events dead-lettered`).to.be.greaterThan(0);
      }
    });
  });

  describe('afterwards', () => {
    it('applied none of the poison commands (no processed_commands row for their ids)', async () => {
      const { rows } = await db.query('SELECT id, command_type FROM processed_commands WHERE id::text = ANY($1)', [sentCommandIds]);
      expect(rows).to.deep.equal([]);
    });

    it('changed no row of any table', async () => {
      const after = await tableChecksums(db);
      expect(after).to.deep.equal(baseline);
    });
  });
});

function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'dead-letter':
      return `dead-lettered (${outcome.reason.source})${outcome.reply ? ' with a bad_request reply' : ', no reply'}`;
    case 'error-reply':
      return 'an error reply with a client error code, not a write';
    case 'reply':
      return 'answered';
    case 'skipped':
      return 'skipped: no reply, no dead letter';
    case 'refused-by-broker':
      return 'refused by the broker';
  }
}
