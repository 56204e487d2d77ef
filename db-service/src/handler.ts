import { ValidationError } from '@mart/common/errors';
import type { CommandMeta } from '@mart/common/kafka';
import type { CommandInput, CommandName, CommandResult, EventName, EventPayload } from '@mart/proto';
import type { Db, SqlRead } from './database.ts';
import type { Notification } from './generated/prisma/client.ts';

/** What db-service's configuration tells its handlers. */
export interface HandlerSettings {
  /** How long a queued email is its event consumer's to send before the retry job may (NOTIFICATION_LEASE_SECONDS). */
  emailLeaseSeconds: number;
}

export interface HandlerContext {
  /** The transaction of this command (mutations) or the client (queries). */
  db: Db;
  /** One plain-SQL read: past Prisma for a query, in the transaction for a mutation. */
  read: SqlRead;
  meta: CommandMeta;
  now: Date;
  settings: HandlerSettings;
  /**
   * Records a domain event in the outbox, in the command's transaction (mutations only). An event
   * about an email is written only if that email is (`ifEmailWritten`: the email's id).
   */
  emit<E extends EventName>(name: E, payload: EventPayload<E>, options?: { ifEmailWritten: string }): void;
  /**
   * Writes an email to send, in the command's transaction and its last statement (mutations only);
   * an email whose dedupe key is already taken is not written.
   */
  writeEmail(email: Notification): void;
  /** Asks db-service to cancel unpaid orders at `at`, once this transaction commits (mutations only). */
  expireOrdersAt(at: Date): void;
}

export type Handler<N extends CommandName> = (input: CommandInput<N>, context: HandlerContext) => Promise<CommandResult<N>>;

export type Handlers = { [N in CommandName]?: Handler<N> };

/** Page arithmetic shared by list handlers; page size is clamped to the API's limits. */
export function pageWindow(page: { page?: number | null; pageSize?: number | null } | null | undefined) {
  const number = Math.max(1, page?.page || 1);
  const size = Math.min(100, Math.max(1, page?.pageSize || 20));
  return { page: number, pageSize: size, skip: (number - 1) * size, take: size };
}

/** Units that can be ordered now: on hand and not held by an unpaid order; never negative. */
export function availableUnits(stock: { onHand: number; reserved: number }): number {
  return Math.max(0, stock.onHand - stock.reserved);
}

/** Lower-cased, trimmed, inner runs of white space folded: the uniqueness key of names. */
export function nameKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** A trimmed display name of 1 to 200 characters; db-service re-checks what the edge validated. */
export function checkedName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw new ValidationError([{ path: 'name', message: 'must be 1 to 200 characters' }]);
  return trimmed;
}
