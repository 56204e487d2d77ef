import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { UnavailableError } from '@mart/common/errors';
import type { EncodedReply } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { eventually, requiredEnv } from '@mart/common/testing';
import { mart } from '@mart/proto';
import { createCommandExecutor } from '../src/command.executor.ts';
import { createDatabase } from '../src/database.ts';
import type { Handlers } from '../src/handler.ts';
import { allHandlers } from '../src/handlers/index.ts';
import { applyMigrations } from '../src/migrate.ts';
import { command, testHandlerSettings } from './handler.helpers.ts';

const errorCode = (reply: EncodedReply) => (reply.status === 'error' ? mart.common.Error.decode(reply.body).code : 'ok');

describe('command executor: commands that queued up together (real PostgreSQL)', () => {
  const database = createDatabase(requiredEnv('DATABASE_URL'), 4);
  const { prisma } = database;
  const logger = createLogger('test', 'silent');
  let eventsWritten = 0;
  const executorWith = (handlers: Handlers) =>
    createCommandExecutor({
      database,
      handlers,
      settings: testHandlerSettings,
      logger,
      onEventsWritten: () => eventsWritten++,
      ordersDueAt: () => undefined,
    });

  /**
   * brand.create, noting which transaction applied each brand: txid_current() is the id of the
   * top-level transaction, inside a savepoint too. `refuse` lets the test make a command fail.
   */
  const transactions = new Map<string, string>();
  const recording = (refuse: (name: string) => boolean = () => false): Handlers => {
    const handlers = allHandlers('it');
    return {
      ...handlers,
      'brand.create': async (request, context) => {
        if (refuse(request.name ?? '')) throw new UnavailableError('the database is restarting');
        const [row] = await context.db.$queryRaw<{ txid: string }[]>`SELECT txid_current()::text AS txid`;
        transactions.set(request.id ?? '', row!.txid);
        return handlers['brand.create']!(request, context);
      },
    };
  };

  before(async () => {
    await applyMigrations(requiredEnv('DATABASE_URL'));
  });

  after(async () => {
    await prisma.$disconnect();
  });

  it('applies them in one transaction, in order, each answered as if it had run alone', async () => {
    const tag = randomUUID();
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const createA = command('brand.create', { id: a, name: `A ${tag}` });
    const before = eventsWritten;
    const batch = [
      createA,
      command('brand.create', { id: randomUUID(), name: `A ${tag}` }), // same name: conflict, rolled back alone
      command('brand.create', { id: b, name: `B ${tag}` }),
      command('brand.create', { id: a, name: `A ${tag}` }, createA.meta.commandId), // a retry: its stored reply
      command('brand.get', { id: b }), // a query ends the shared transaction, so it sees B
      command('brand.create', { id: c, name: `C ${tag}` }),
    ];
    const replies = await executorWith(recording())(batch);

    expect(replies.map(errorCode)).to.deep.equal(['ok', 'conflict', 'ok', 'ok', 'ok', 'ok']);
    expect(Buffer.from(replies[3]!.body)).to.deep.equal(Buffer.from(replies[0]!.body));
    expect(mart.brand.Brand.decode(replies[4]!.body).name).to.equal(`B ${tag}`);
    const [txA, txB, txC] = [a, b, c].map((id) => transactions.get(id));
    expect(txA).to.be.a('string');
    expect(txB).to.equal(txA, 'A and B were committed together');
    expect(txC).to.be.a('string').and.not.equal(txA, 'C came after the query, in a transaction of its own');
    expect(await prisma.brand.count({ where: { id: { in: [a, b, c] } } })).to.equal(3);
    const claims = await prisma.processedCommand.count({ where: { id: createA.meta.commandId } });
    expect(claims).to.equal(1);
    const events = await prisma.outboxEvent.count({ where: { type: 'brand.created', key: { in: [a, b, c] } } });
    expect(events).to.equal(3);
    expect(eventsWritten - before).to.equal(2, 'the relay is woken once per commit that wrote events');
  });

  it('applies a repeated command once, alone, in a batch or at the same time, though its handler would succeed again', async () => {
    const tag = randomUUID();
    const id = randomUUID();
    await executorWith(recording())([command('brand.create', { id, name: `once ${tag}` })]);
    // brand.update here appends to the description: applied twice, it would show twice.
    const handlers = allHandlers('it');
    const appending: Handlers = {
      ...handlers,
      'brand.update': async (request, context) => {
        await context.db.$executeRaw`UPDATE brands SET description = coalesce(description, '') || '+' WHERE id = ${request.id}::uuid`;
        return handlers['brand.get']!(mart.common.IdRequest.create({ id: request.id }), context);
      },
    };
    const update = command('brand.update', { id });
    const again = () => command('brand.update', { id }, update.meta.commandId);
    const first = await executorWith(appending)([update]);
    const repeated = await Promise.all([
      executorWith(appending)([again()]),
      executorWith(appending)([command('brand.get', { id }), again(), command('brand.create', { id: randomUUID(), name: `next ${tag}` })]),
      executorWith(appending)([again(), again()]),
    ]);

    expect((await prisma.brand.findUniqueOrThrow({ where: { id } })).description).to.equal('+');
    for (const reply of [repeated[0][0]!, repeated[1][1]!, ...repeated[2]]) {
      expect(Buffer.from(reply.body)).to.deep.equal(Buffer.from(first[0]!.body), 'the stored reply');
    }
    expect(errorCode(repeated[1][2]!)).to.equal('ok');
  });

  it('commits what came before a command that may pass, runs that one alone, then the rest, in order', async () => {
    const tag = randomUUID();
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    let refusals = 1;
    const flaky = recording((name) => name === `flaky ${tag}` && refusals-- > 0);
    const names = ['first', 'flaky', 'third', 'fourth'];
    const replies = await executorWith(flaky)(ids.map((id, i) => command('brand.create', { id, name: `${names[i]} ${tag}` })));

    expect(replies.map(errorCode)).to.deep.equal(['ok', 'ok', 'ok', 'ok']);
    const [first, second, third, fourth] = ids.map((id) => transactions.get(id));
    expect(first).to.be.a('string');
    expect(second).to.be.a('string').and.not.equal(first, 'the flaky command ran alone');
    expect(third).to.equal(fourth, 'the rest shared a transaction again');
    expect(new Set([first, second, third]).size).to.equal(3);
  });

  it('does not let a batch wait long for a lock: the waiting command runs alone once the batch is committed', async () => {
    const tag = randomUUID();
    const [before, locked, after] = [randomUUID(), randomUUID(), randomUUID()];
    await executorWith(recording())([command('brand.create', { id: locked, name: `locked ${tag}` })]);
    // Another transaction holds the row, as a command of another partition would.
    let release!: () => void;
    let locking!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const lockTaken = new Promise<void>((resolve) => (locking = resolve));
    const holding = prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM brands WHERE id = ${locked}::uuid FOR UPDATE`;
      locking();
      await held;
    });
    await lockTaken;
    const batch = executorWith(recording())([
      command('brand.create', { id: before, name: `before ${tag}` }),
      command('brand.update', { id: locked, name: `renamed ${tag}` }),
      command('brand.create', { id: after, name: `after ${tag}` }),
    ]);
    // The command before the locked row is committed while the lock is still held.
    await eventually(async () => (await prisma.brand.count({ where: { id: before } })) === 1, 'the command before the lock committed', {
      timeoutMs: 5000,
    });
    release();
    await holding;
    const replies = await batch;
    expect(replies.map(errorCode)).to.deep.equal(['ok', 'ok', 'ok']);
    expect((await prisma.brand.findUniqueOrThrow({ where: { id: locked } })).name).to.equal(`renamed ${tag}`);
    expect(await prisma.brand.count({ where: { id: after } })).to.equal(1);
  });
});
