import { randomUUID } from 'node:crypto';
import { AppError } from '@mart/common/errors';
import { encodeError, type CommandExecutor, type CommandMeta, type DecodedCommand, type EncodedReply } from '@mart/common/kafka';
import type { Logger } from '@mart/common/logger';
import { metrics } from '@mart/common/metrics';
import { childTraceparent } from '@mart/common/tracing';
import {
  commands,
  events,
  headers as headerNames,
  type CommandName,
  type CommandResult,
  type EventName,
  type EventPayload,
} from '@mart/proto';
import { Prisma, type Database, type PrismaClient } from './database.ts';
import type { Notification } from './generated/prisma/client.ts';
import { toAppError } from './database.errors.ts';
import type { Handler, HandlerContext, HandlerSettings, Handlers } from './handler.ts';

interface OutboxRow {
  eventId: string;
  topic: string;
  key: string;
  type: string;
  payload: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
  /** Written only if this email is (its row is new): the event that has it sent. */
  ifEmailWritten: string | null;
}

function encodeEvent<E extends EventName>(
  name: E,
  payload: EventPayload<E>,
  meta: CommandMeta,
  ifEmailWritten: string | null = null,
): OutboxRow {
  const definition = events[name];
  const key = definition.key(payload);
  const headers: Record<string, string> = { [headerNames.commandId]: meta.commandId };
  if (meta.requestId) headers[headerNames.requestId] = meta.requestId;
  // The event continues the command's trace, as a child span of it.
  if (meta.traceparent) headers[headerNames.traceparent] = childTraceparent(meta.traceparent);
  const encoded = new Uint8Array(definition.type.encode(payload).finish());
  return { eventId: randomUUID(), topic: definition.topic, key, type: name, payload: encoded, headers, ifEmailWritten };
}

function encodeReply<N extends CommandName>(name: N, result: CommandResult<N>): EncodedReply {
  return { status: 'ok', body: commands[name].reply.encode(result).finish() };
}

/** What one mutation did inside its transaction. */
interface Applied {
  command: CommandName;
  replayed: boolean;
  events: number;
  /** Expiry times of the orders it placed: db-service's own work once it commits. */
  ordersDueAt: Date[];
  reply: EncodedReply;
}

/** A query handler's context: it reads, and may not ask for anything to change. */
export function queryContext({ prisma, read }: Database, meta: CommandMeta, name: string, settings: HandlerSettings): HandlerContext {
  const refuse = () => {
    throw new Error(`query ${name} cannot change anything`);
  };
  return { db: prisma, read, meta, now: new Date(), settings, emit: refuse, writeEmail: refuse, expireOrdersAt: refuse };
}

/** What a mutation asked for in its transaction: what its last statement writes, and what follows its commit. */
export interface Written {
  events: OutboxRow[];
  emails: Notification[];
  ordersDueAt: Date[];
}

/** A handler's context inside a transaction, and what it asked for there (events, emails, expiry times). */
export function mutationContext(tx: Prisma.TransactionClient, meta: CommandMeta, settings: HandlerSettings) {
  const written: Written = { events: [], emails: [], ordersDueAt: [] };
  const context: HandlerContext = {
    db: tx,
    read: (query) => tx.$queryRaw(query),
    meta,
    now: new Date(),
    settings,
    emit: (event, payload, options) => written.events.push(encodeEvent(event, payload, meta, options?.ifEmailWritten)),
    writeEmail: (email) => written.emails.push(email),
    expireOrdersAt: (at) => written.ordersDueAt.push(at),
  };
  return { context, written };
}

/**
 * The last statement of a mutation: it claims the command id with its reply, and writes the
 * emails and the outbox events, in the caller's transaction (the caller wakes the relay after
 * commit). One statement however much it writes, since each costs a round trip and PostgreSQL's
 * per-statement work. Events go in the order they were emitted; one that tells of an email goes
 * only with that email, whose dedupe key may already be taken. Returns whether the claim was new:
 * false means the command was applied before, and this transaction must be rolled back.
 */
export async function writeClaimAndOutbox(
  tx: Prisma.TransactionClient,
  { events, emails }: Pick<Written, 'events' | 'emails'>,
  claim?: { commandId: string; name: CommandName; reply: Uint8Array },
): Promise<boolean> {
  if (!claim && events.length === 0 && emails.length === 0) return true;
  const column = <K extends keyof OutboxRow>(key: K) => events.map((event) => event[key]);
  const email = <K extends keyof Notification>(key: K) => emails.map((row) => row[key]);
  const time = (key: 'nextAttemptAt' | 'createdAt') => emails.map((row) => row[key]?.toISOString() ?? null);
  const [result] = await tx.$queryRaw<{ claimed: boolean }[]>`
    WITH claim AS (
      ${
        claim
          ? Prisma.sql`INSERT INTO processed_commands (id, command_type, ok, reply)
              VALUES (${claim.commandId}::uuid, ${claim.name}, true, ${Buffer.from(claim.reply)})
              ON CONFLICT (id) DO NOTHING RETURNING id`
          : Prisma.sql`SELECT NULL::uuid AS id`
      }
    ), emails AS (
      INSERT INTO notifications (id, type, "to", subject, body, status, attempts, dedupe_key, next_attempt_at, created_at, updated_at)
      SELECT id, type, "to", subject, body, 'PENDING', 0, dedupe_key, next_attempt_at, created_at, created_at
      FROM unnest(${email('id')}::uuid[], ${email('type')}::text[], ${email('to')}::text[], ${email('subject')}::text[],
                  ${email('body')}::text[], ${email('dedupeKey')}::text[], ${time('nextAttemptAt')}::timestamptz[],
                  ${time('createdAt')}::timestamptz[]) AS m(id, type, "to", subject, body, dedupe_key, next_attempt_at, created_at)
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING id
    ), events AS (
      INSERT INTO outbox_events (event_id, topic, key, type, payload, headers)
      SELECT event_id, topic, key, type, decode(payload, 'base64'), headers::jsonb
      FROM unnest(${column('eventId')}::uuid[], ${column('topic')}::text[], ${column('key')}::text[], ${column('type')}::text[],
                  ${events.map((event) => Buffer.from(event.payload).toString('base64'))}::text[],
                  ${events.map((event) => JSON.stringify(event.headers))}::text[], ${column('ifEmailWritten')}::uuid[])
           WITH ORDINALITY AS e(event_id, topic, key, type, payload, headers, if_email_written, n)
      WHERE if_email_written IS NULL OR if_email_written IN (SELECT id FROM emails)
      ORDER BY n
    )
    SELECT EXISTS (SELECT 1 FROM claim) AS claimed`;
  return result?.claimed ?? false;
}

/** A command whose id was claimed before: its transaction is rolled back and its stored reply sent. */
class AppliedBefore extends Error {}

/** How long a command inside a shared transaction may wait for a row lock. */
const batchLockTimeoutMs = 50;

/** A transaction of several commands gives up after this long, like one of a single command. */
const transactionOptions = { maxWait: 5000, timeout: 15_000 };

/**
 * Applies commands with exactly-once effect. A mutation first claims its command id in
 * processed_commands, inside the same transaction as its changes and outbox events: a
 * redelivered or retried command finds the claim and gets the stored reply instead of
 * being applied again; a concurrent duplicate waits on the claim's row lock.
 *
 * Mutations that queued up together on one partition share one transaction, each inside a
 * savepoint: a commit waits for the WAL to reach the disk (about 5 ms here, more than the rest
 * of a typical command), so under load that wait is paid once per batch instead of per command.
 * A command that fails is rolled back to its savepoint and answered with its error, exactly as
 * if it had run alone; replies go out only after the shared commit.
 */
export function createCommandExecutor(options: {
  database: Database;
  handlers: Handlers;
  settings: HandlerSettings;
  logger: Logger;
  /** Called after a commit that wrote events: the outbox relay publishes them. */
  onEventsWritten(): void;
  /** Called after a commit with the expiry time of each order placed. */
  ordersDueAt(at: Date): void;
}): CommandExecutor {
  const { database, handlers, settings, logger } = options;
  const { prisma } = database;

  /** Runs a command's handler and encodes its reply. */
  async function handle<N extends CommandName>({ name, request }: DecodedCommand<N>, context: HandlerContext): Promise<EncodedReply> {
    const handler: Handler<N> | undefined = handlers[name];
    if (!handler) throw new AppError('unavailable', `${name} is not implemented yet`);
    return encodeReply(name, await handler(request, context));
  }

  async function query(command: DecodedCommand): Promise<EncodedReply> {
    return handle(command, queryContext(database, command.meta, command.name, settings));
  }

  /**
   * Applies the handler, then claims the command id with its reply in the last statement. A command
   * applied before (a redelivery, a retry) finds its claim taken and throws AppliedBefore, which
   * rolls back what it did; a concurrent duplicate waits on the other's row locks or its claim.
   */
  async function apply(tx: Prisma.TransactionClient, command: DecodedCommand): Promise<Applied> {
    const { name, meta } = command;
    const { context, written } = mutationContext(tx, meta, settings);
    const reply = await handle(command, context);
    if (!(await writeClaimAndOutbox(tx, written, { commandId: meta.commandId, name, reply: reply.body }))) throw new AppliedBefore();
    return { command: name, replayed: false, events: written.events.length, ordersDueAt: written.ordersDueAt, reply };
  }

  /**
   * The reply stored for a command that failed here: one applied before fails now (its claim is
   * taken, or its effects are there already, a unique key say) and is answered as it was then.
   */
  async function storedReply(db: Prisma.TransactionClient | PrismaClient, { name, meta }: DecodedCommand): Promise<Applied | undefined> {
    const done = await db.processedCommand.findUnique({ where: { id: meta.commandId } });
    return done
      ? { command: name, replayed: true, events: 0, ordersDueAt: [], reply: { status: done.ok ? 'ok' : 'error', body: done.reply } }
      : undefined;
  }

  function committed(applied: Applied[]): void {
    for (const { command, replayed } of applied) if (replayed) metrics.commandsReplayed.inc({ command });
    if (applied.some(({ events }) => events > 0)) options.onEventsWritten();
    for (const at of applied.flatMap(({ ordersDueAt }) => ordersDueAt)) options.ordersDueAt(at);
  }

  async function mutateAlone(command: DecodedCommand): Promise<EncodedReply> {
    try {
      const applied = await prisma.$transaction((tx) => apply(tx, command), transactionOptions);
      committed([applied]);
      return applied.reply;
    } catch (error) {
      const before = await storedReply(prisma, command).catch(() => undefined);
      if (!before) return failed(command, error);
      committed([before]);
      return before.reply;
    }
  }

  /**
   * Several mutations in one transaction, in order. A command whose failure may be passing (a
   * lock it waited too long for, a lost connection) ends the shared part: what
   * came before it is committed, it runs alone, and the rest continue after it, so the order of
   * the partition holds. If the shared transaction itself fails, each command runs alone.
   */
  async function mutateTogether(commands: DecodedCommand[]): Promise<EncodedReply[]> {
    const replies: EncodedReply[] = [];
    const applied: Applied[] = [];
    try {
      await prisma.$transaction(async (tx) => {
        // Each command takes its row locks in a fixed order, but a batch holds the locks of its
        // earlier commands while a later one waits: two batches (or a batch and a lone command)
        // can then deadlock, which PostgreSQL only notices after deadlock_timeout (1 s). A batch
        // gives up waiting much sooner instead: the command that waited runs alone, below.
        await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${batchLockTimeoutMs}ms'`);
        for (const command of commands) {
          await tx.$executeRawUnsafe('SAVEPOINT mart_command');
          try {
            const done = await apply(tx, command);
            await tx.$executeRawUnsafe('RELEASE SAVEPOINT mart_command');
            applied.push(done);
            replies.push(done.reply);
          } catch (error) {
            await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT mart_command');
            if (!(error instanceof AppliedBefore) && mayPass(toAppError(error))) break;
            const before = await storedReply(tx, command);
            if (before) applied.push(before);
            replies.push(before ? before.reply : failed(command, error));
          }
        }
      }, transactionOptions);
    } catch (error) {
      logger.warn({ err: error, commands: commands.length }, 'shared transaction failed; applying its commands one by one');
      const alone: EncodedReply[] = [];
      for (const command of commands) alone.push(await mutateAlone(command));
      return alone;
    }
    committed(applied);
    if (replies.length === commands.length) return replies;
    const [next, ...rest] = commands.slice(replies.length);
    replies.push(await mutateAlone(next!));
    return [...replies, ...(await mutations(rest))];
  }

  async function mutations(commands: DecodedCommand[]): Promise<EncodedReply[]> {
    if (commands.length === 0) return [];
    return commands.length === 1 ? [await mutateAlone(commands[0]!)] : mutateTogether(commands);
  }

  function failed({ name, meta }: DecodedCommand, error: unknown): EncodedReply {
    const appError = toAppError(error);
    if (appError.code === 'internal' || appError.code === 'unavailable') {
      logger.error({ err: error, command: name, commandId: meta.commandId }, 'command failed');
    }
    return encodeError(appError);
  }

  /** Runs of mutations go to `mutations` together; queries and unknown commands one by one. */
  return async (commands) => {
    const replies: EncodedReply[] = [];
    for (let i = 0; i < commands.length;) {
      const command = commands[i]!;
      if (!handlers[command.name]) {
        replies.push(encodeError(new AppError('unavailable', `${command.name} is not implemented yet`)));
        i++;
      } else if (isMutation(command)) {
        let end = i;
        while (end < commands.length && handlers[commands[end]!.name] && isMutation(commands[end]!)) end++;
        replies.push(...(await mutations(commands.slice(i, end))));
        i = end;
      } else {
        replies.push(await query(command).catch((error: unknown) => failed(command, error)));
        i++;
      }
    }
    return replies;
  };
}

function isMutation(command: DecodedCommand): boolean {
  return commands[command.name].mutation;
}

/** Failures that say nothing about the command itself, so running it again may well succeed. */
function mayPass(error: AppError): boolean {
  return error.code === 'internal' || error.code === 'unavailable';
}
