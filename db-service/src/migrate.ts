// Applies the committed SQL migrations (prisma/migrations/<timestamp>_<name>/migration.sql) the way
// `prisma migrate deploy` does, over plain `pg`, so db-service needs no Prisma schema-engine binary
// at run time. The bookkeeping is Prisma's own: the `_prisma_migrations` table with the same
// columns and rows, and the same advisory lock key, so `prisma migrate status|deploy|resolve` (where
// the engine can be downloaded) and this runner can be used on the same database.
//
// Differences from `prisma migrate deploy`, all on the safe side:
// - each migration runs in one transaction together with its `_prisma_migrations` row, so a failed
//   migration leaves no half-applied schema (Prisma runs the script without a transaction);
// - a migration whose committed file no longer matches the checksum recorded when it was applied is
//   refused (Prisma only warns about that in `migrate dev`).
//
// CLI: `tsx db-service/src/migrate.ts` applies to $DATABASE_URL.

import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '@mart/common/config';
import { dbServiceConfigSchema } from './config.ts';

/** The key Prisma's schema engine locks (`SELECT pg_advisory_lock(72707369)`). */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

/** db-service/prisma/migrations, found from this file rather than the working directory. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

/** Prisma's DDL for the bookkeeping table on PostgreSQL, verbatim. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export type MigrationErrorCode =
  | 'MIGRATIONS_DIR' // the migrations directory is missing or malformed
  | 'LOCK_TIMEOUT' // another process held the migration lock for too long
  | 'NON_EMPTY_DATABASE' // tables exist but no migration history (Prisma P3005)
  | 'PREVIOUSLY_FAILED' // a migration failed earlier and was not resolved (Prisma P3009)
  | 'CHECKSUM_MISMATCH' // an applied migration's file was edited
  | 'MIGRATION_FAILED'; // a migration's SQL failed now (Prisma P3018)

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    readonly migrationName?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ApplyMigrationsOptions {
  /** Directory holding `<timestamp>_<name>/migration.sql` folders. Default: db-service/prisma/migrations. */
  migrationsDir?: string;
  /** How long to wait for another instance's migration lock. Default 60 000 ms. */
  lockTimeoutMs?: number;
}

export interface LocalMigration {
  name: string;
  script: string;
  checksum: string;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

/** SHA-256 of the script, lower-case hex: what Prisma stores in `_prisma_migrations.checksum`. */
export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/**
 * Whether a script matches a recorded checksum, with Prisma's tolerance: CRLF/LF conversions
 * by git, and old rows whose hex bytes were not zero-padded.
 */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\r\n', '\n').replaceAll('\n', '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant, 'utf8').digest();
    if (checksum.length === 64) return digest.toString('hex') === checksum;
    return [...digest].map((byte) => byte.toString(16)).join('') === checksum;
  });
}

/** Reads the migrations directory, sorted by folder name as Prisma sorts it. */
export function readLocalMigrations(migrationsDir: string = DEFAULT_MIGRATIONS_DIR): LocalMigration[] {
  if (!existsSync(migrationsDir)) {
    throw new MigrationError('MIGRATIONS_DIR', `Migrations directory not found: ${migrationsDir}`);
  }
  const lockPath = path.join(migrationsDir, 'migration_lock.toml');
  if (existsSync(lockPath)) {
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lockPath, 'utf8'))?.[1];
    if (provider !== undefined && provider !== 'postgresql') {
      throw new MigrationError('MIGRATIONS_DIR', `${lockPath} says provider = "${provider}"; these migrations are not for PostgreSQL.`);
    }
  }
  const names = readdirSync(migrationsDir)
    .filter((entry) => statSync(path.join(migrationsDir, entry)).isDirectory())
    .sort((a, b) => a.localeCompare(b));
  return names.map((name) => {
    const file = path.join(migrationsDir, name, 'migration.sql');
    if (!existsSync(file)) {
      throw new MigrationError('MIGRATIONS_DIR', `Migration folder ${name} has no migration.sql (${file}).`, name);
    }
    const script = readFileSync(file, 'utf8');
    return { name, script, checksum: migrationChecksum(script) };
  });
}

/** Splits Prisma's `?schema=` parameter off a connection string (default schema: public). */
function connectionConfig(databaseUrl: string): { connectionString: string; schema: string } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error('applyMigrations: the database URL is not a valid postgresql:// URL');
  }
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

function pgErrorText(error: unknown): string {
  const e = error as { message?: string; code?: string; position?: string; detail?: string; where?: string };
  const lines = [`Database error code: ${e.code ?? 'unknown'}`, '', 'Database error:', e.message ?? String(error)];
  if (e.position) lines.push('', `Position: ${e.position} (character offset in migration.sql)`);
  if (e.detail) lines.push('', `DETAIL: ${e.detail}`);
  if (e.where) lines.push('', `CONTEXT: ${e.where}`);
  return lines.join('\n');
}

/**
 * Applies every committed migration not yet recorded as applied, each in its own transaction,
 * under Prisma's advisory lock so concurrent callers apply each migration exactly once.
 * Throws {@link MigrationError} (and applies nothing further) on a failed migration, on an
 * unresolved earlier failure, or when an applied migration's file was edited.
 */
export async function applyMigrations(
  databaseUrl: string,
  log: (msg: string) => void = () => {},
  options: ApplyMigrationsOptions = {},
): Promise<{ applied: string[] }> {
  const migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
  const local = readLocalMigrations(migrationsDir);
  const { connectionString, schema } = connectionConfig(databaseUrl);

  const client = new pg.Client({ connectionString, application_name: 'mart-migrate' });
  // A dropped connection emits 'error' on the client; the pending query rejects on its own.
  client.on('error', () => {});
  await client.connect();
  let locked = false;
  try {
    await client.query(`SET search_path TO ${quoteIdent(schema)}`);

    log(`${local.length} migration(s) found in ${migrationsDir}`);
    await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    try {
      await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
      locked = true;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') {
        throw new MigrationError(
          'LOCK_TIMEOUT',
          `Timed out after ${lockTimeoutMs} ms waiting for the migration lock (pg_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY})): another process is migrating this database.`,
        );
      }
      throw error;
    }
    await client.query('RESET lock_timeout');
    if (schema !== 'public') {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    }

    const tableExists =
      (await client.query<{ t: string | null }>(`SELECT to_regclass('_prisma_migrations')::text AS t`)).rows[0]?.t != null;
    if (!tableExists) {
      const tables = await client.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 LIMIT 5', [schema]);
      if (tables.rows.length > 0 && local.length > 0) {
        throw new MigrationError(
          'NON_EMPTY_DATABASE',
          `The database schema "${schema}" is not empty (tables: ${tables.rows.map((r) => r.tablename).join(', ')}, …) ` +
            'but has no _prisma_migrations table. Apply the migrations to an empty database, or baseline it ' +
            '(https://pris.ly/d/migrate-baseline).',
        );
      }
      await client.query(CREATE_MIGRATIONS_TABLE);
    }

    const rows = (await client.query<MigrationRow>('SELECT * FROM _prisma_migrations ORDER BY started_at ASC')).rows;

    const failed = rows.filter((row) => row.finished_at === null && row.rolled_back_at === null);
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new MigrationError(
        'PREVIOUSLY_FAILED',
        `Migration ${failed.map((r) => `\`${r.migration_name}\``).join(', ')} failed earlier (started ${first.started_at.toISOString()}) ` +
          'and is not resolved, so no further migrations are applied.\n' +
          `Its log:\n${first.logs ?? '(none)'}\n` +
          'Fix the database and the migration, then mark the failed attempt as rolled back: ' +
          `\`npx prisma migrate resolve --rolled-back ${first.migration_name}\` or ` +
          `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '${first.migration_name}' AND finished_at IS NULL;`,
        first.migration_name,
      );
    }

    const appliedRows = rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null);
    const localByName = new Map(local.map((m) => [m.name, m]));
    const edited = appliedRows.filter((row) => {
      const file = localByName.get(row.migration_name);
      return file !== undefined && !scriptMatchesChecksum(file.script, row.checksum);
    });
    if (edited.length > 0) {
      const names = edited.map((r) => r.migration_name);
      throw new MigrationError(
        'CHECKSUM_MISMATCH',
        `The migration(s) ${names.map((n) => `\`${n}\``).join(', ')} were modified after they were applied ` +
          '(the checksum of migration.sql differs from the one recorded in _prisma_migrations). ' +
          'Committed migrations must not be edited: restore the file and add a new migration instead.',
        names[0],
      );
    }
    const appliedNames = new Set(appliedRows.map((row) => row.migration_name));
    for (const name of appliedNames) {
      if (!localByName.has(name)) {
        log(`warning: migration \`${name}\` is recorded as applied but is missing from ${migrationsDir}`);
      }
    }

    const pending = local.filter((m) => !appliedNames.has(m.name));
    if (pending.length === 0) {
      log('No pending migrations to apply.');
      return { applied: [] };
    }

    const applied: string[] = [];
    for (const migration of pending) {
      log(`Applying migration \`${migration.name}\``);
      const id = randomUUID();
      const startedAt = new Date();
      try {
        await client.query('BEGIN');
        await client.query('INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, $4)', [
          id,
          migration.checksum,
          migration.name,
          startedAt,
        ]);
        // No parameters: the simple query protocol runs the multi-statement script as is.
        await client.query(migration.script);
        await client.query('UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1, finished_at = $2 WHERE id = $1', [
          id,
          new Date(),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        // The migration's own error is what the caller must see; a rollback or the failure
        // record failing too (the connection is often what broke) must not replace it.
        await client.query('ROLLBACK').catch(() => {});
        const logs = pgErrorText(error);
        // Record the failed attempt as Prisma does (finished_at NULL, the error in logs), so both
        // this runner and `prisma migrate status/deploy` refuse to go on until it is resolved.
        await client
          .query('INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, logs) VALUES ($1, $2, $3, $4, $5)', [
            id,
            migration.checksum,
            migration.name,
            startedAt,
            logs,
          ])
          .catch(() => {});
        throw new MigrationError(
          'MIGRATION_FAILED',
          `Migration \`${migration.name}\` failed and was rolled back; no further migrations were applied.\n${logs}`,
          migration.name,
          { cause: error },
        );
      }
      applied.push(migration.name);
    }
    log(`Applied ${applied.length} migration(s): ${applied.join(', ')}`);
    return { applied };
  } finally {
    // A session lock ends with its connection anyway; cleanup errors must not mask the result.
    if (locked) await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]).catch(() => {});
    await client.end().catch(() => {});
  }
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  let databaseUrl: string;
  try {
    // The same DATABASE_URL rules (and default) as db-service itself.
    databaseUrl = loadConfig(dbServiceConfigSchema.pick({ DATABASE_URL: true })).DATABASE_URL;
  } catch (error) {
    console.error(`migrate: ${(error as Error).message}`);
    process.exit(2);
  }
  applyMigrations(databaseUrl, (msg) => console.log(msg)).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
