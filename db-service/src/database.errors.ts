import { AppError, BadRequestError, ConflictError, NotFoundError, UnavailableError } from '@mart/common/errors';
import { Prisma } from './database.ts';

// Prisma's error codes: https://www.prisma.io/docs/orm/reference/error-reference
const uniqueViolationCode = 'P2002';
const foreignKeyViolation = 'P2003';
const recordNotFound = 'P2025';

/**
 * Names the violated unique constraint (index name or columns, e.g. "brands_name_key_key"),
 * when `error` is a unique violation; undefined otherwise.
 */
export function uniqueViolation(error: unknown): string | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== uniqueViolationCode) return undefined;
  const meta = error.meta as
    { target?: unknown; driverAdapterError?: { cause?: { constraint?: { index?: string; fields?: string[] } } } } | undefined;
  const constraint = meta?.driverAdapterError?.cause?.constraint;
  return constraint?.index ?? constraint?.fields?.join(',') ?? String(meta?.target ?? '');
}

export function isForeignKeyViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === foreignKeyViolation;
}

/** A catch handler: Prisma's record-not-found becomes a NotFoundError with `message`; anything else is rethrown. */
export function rethrowNotFound(message: string): (error: unknown) => never {
  return (error) => {
    if (isRecordNotFound(error)) throw new NotFoundError(message);
    throw error;
  };
}

export function isRecordNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === recordNotFound;
}

// Prisma's "can't reach", "timed out" and "server closed the connection"; PostgreSQL's classes
// 08 (connection exception) and 57P (operator intervention: shutdown, starting up), and a
// deadlock victim or serialization failure (40P01, 40001), rolled back and safe to try again.
const connectionFailureCodes = /^(P1001|P1002|P1017|08...|57P0[1-3]|40P01|40001)$/;

/**
 * The database's refusal of a value its column type cannot hold (a non-UUID id, a non-date), as
 * the driver adapter classifies it; undefined for any other error.
 */
function invalidInputValue(error: unknown): string | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return undefined;
  const cause = (error.meta as { driverAdapterError?: { cause?: { kind?: string; message?: string } } } | undefined)?.driverAdapterError
    ?.cause;
  return cause?.kind === 'InvalidInputValue' ? (cause.message ?? 'invalid input value') : undefined;
}

function isConnectionFailure(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  // The adapter's cause sits in meta, not in `cause`: a stopped server must not look like a bug (500).
  const adapterCause = (error as { meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string; originalCode?: string } } } })
    ?.meta?.driverAdapterError?.cause;
  if (adapterCause?.kind === 'DatabaseNotReachable') return true;
  // A deadlock comes as kind TransactionWriteConflict with only originalCode 40P01.
  for (const code of [(error as { code?: unknown })?.code, adapterCause?.code, adapterCause?.originalCode]) {
    if (typeof code === 'string' && connectionFailureCodes.test(code)) return true;
  }
  const text = `${(error as Error)?.message ?? ''} ${String((error as { cause?: unknown })?.cause ?? '')}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection terminated|connection timeout|terminating connection|not queryable|timeout exceeded when trying to connect|DatabaseNotReachable|the database system is (starting up|shutting down)/i.test(
    text,
  );
}

/** Maps what a handler threw to the error the caller should see. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (uniqueViolation(error) !== undefined) return new ConflictError('A record with the same unique value already exists');
  if (isForeignKeyViolation(error)) return new ConflictError('The record is referenced by other records, or references a missing one');
  if (isRecordNotFound(error)) return new NotFoundError();
  // A command the edge did not validate (a forged one, say) is the caller's error, not ours.
  const invalid = invalidInputValue(error);
  if (invalid !== undefined) return new BadRequestError(`Invalid input value: ${invalid}`);
  if (isConnectionFailure(error)) return new UnavailableError('The database is unavailable');
  return new AppError('internal', 'Internal error');
}
