import { ValidationError, type ErrorDetail } from '@mart/common/errors';
import type { CommandMeta } from '@mart/common/kafka';
import { issueDetails, type z } from '@mart/common/zod';
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

/** Rules by field name, from @mart/common/domain: the HTTP edge validates with the same ones. */
type FieldRules = Record<string, z.ZodType>;

type CheckedFields<R extends FieldRules> = { [K in keyof R]?: z.output<R[K]> };

/**
 * The fields of `input` that `rules` name, each as its rule parses it: db-service checks again what
 * the edge validated. An absent field (null, as proto3 leaves an unset optional field) is left out;
 * each broken rule adds a detail naming its field, after `prefix`.
 */
export function checkedFields<R extends FieldRules>(
  rules: R,
  input: { [K in keyof R]?: unknown },
  details: ErrorDetail[],
  prefix = '',
): CheckedFields<R> {
  const fields: CheckedFields<R> = {};
  for (const key of Object.keys(rules) as (keyof R & string)[]) {
    if (input[key] == null) continue;
    const result = rules[key]!.safeParse(input[key]);
    if (result.success) fields[key] = result.data as z.output<R[typeof key]>;
    else details.push(...issueDetails(result.error.issues, { at: [prefix + key] }));
  }
  return fields;
}

/** checkedFields, or a ValidationError naming every field whose rule is broken. */
export function validFields<R extends FieldRules>(rules: R, input: { [K in keyof R]?: unknown }): CheckedFields<R> {
  const details: ErrorDetail[] = [];
  const fields = checkedFields(rules, input, details);
  if (details.length > 0) throw new ValidationError(details);
  return fields;
}
