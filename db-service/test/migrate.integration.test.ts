// Integration tests of the migration runner (src/migrate.ts) against real PostgreSQL scratch
// databases (created and dropped here, on $DATABASE_URL's server or the local default).
// Run: npx mocha --node-option import=tsx --timeout 30000 db-service/test/migrate.integration.test.ts

import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { DEFAULT_MIGRATIONS_DIR, MigrationError, PRISMA_ADVISORY_LOCK_KEY, applyMigrations, readLocalMigrations } from '../src/migrate.ts';
import { NO_FILTER, createDatabase, dropDatabase, openSchemaEngine, readMigrationsList, serverUrl } from '../scripts/schema-engine.ts';

const server = serverUrl();
const created: string[] = [];
const tempDirs: string[] = [];
let counter = 0;

async function scratchDb(): Promise<string> {
  const name = `mart_migtest_${process.pid}_${++counter}`;
  created.push(name);
  return createDatabase(server, name);
}

function tempMigrations(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mart-migrations-'));
  tempDirs.push(dir);
  cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

function addMigration(dir: string, name: string, sql: string): void {
  mkdirSync(path.join(dir, name));
  writeFileSync(path.join(dir, name, 'migration.sql'), sql);
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function rejection(promise: Promise<unknown>): Promise<MigrationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(MigrationError);
    return error as MigrationError;
  }
  throw new Error('expected applyMigrations to fail');
}

interface Row {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const committed = readLocalMigrations().map((m) => m.name);

describe('applyMigrations (db-service migration runner)', function () {
  after(async () => {
    for (const name of created) await dropDatabase(server, name);
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the committed migrations next to the module, whatever the cwd', () => {
    expect(committed.length).to.be.greaterThan(0);
    expect(committed[0]).to.match(/^\d{14}_init$/);
  });

  describe('on an empty database', () => {
    let url: string;
    before(async () => {
      url = await scratchDb();
    });

    it('applies every committed migration and records it as Prisma does', async () => {
      const logs: string[] = [];
      const { applied } = await applyMigrations(url, (m) => logs.push(m));
      expect(applied).to.deep.equal(committed);
      expect(logs.join('\n')).to.contain(`Applying migration \`${committed[0]}\``);

      const tables = await query<{ tablename: string }>(url, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
      expect(tables.map((t) => t.tablename)).to.include.members(['_prisma_migrations', 'products', 'orders', 'outbox_events']);

      const rows = await query<Row>(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at');
      expect(rows.map((r) => r.migration_name)).to.deep.equal(committed);
      for (const row of rows) {
        const file = readFileSync(path.join(DEFAULT_MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
        expect(row.checksum).to.equal(createHash('sha256').update(file).digest('hex'));
        expect(row.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(row.finished_at).to.be.instanceOf(Date);
        expect(row.finished_at!.getTime()).to.be.at.least(row.started_at.getTime());
        expect(row.logs).to.equal(null);
        expect(row.rolled_back_at).to.equal(null);
        expect(row.applied_steps_count).to.equal(1);
      }
    });

    it('applies nothing the second time', async () => {
      const logs: string[] = [];
      const { applied } = await applyMigrations(url, (m) => logs.push(m));
      expect(applied).to.deep.equal([]);
      expect(logs).to.include('No pending migrations to apply.');
      const rows = await query(url, 'SELECT 1 FROM _prisma_migrations');
      expect(rows).to.have.length(committed.length);
    });

    it("is in sync for Prisma's own schema engine (mixed use is safe)", async () => {
      await applyMigrations(url);
      const handle = await openSchemaEngine(url);
      try {
        const migrationsList = readMigrationsList(DEFAULT_MIGRATIONS_DIR);
        const diagnosis = await handle.engine.diagnoseMigrationHistory({
          migrationsList,
          optInToShadowDatabase: false,
          filters: NO_FILTER,
        });
        expect(diagnosis).to.deep.include({ history: null, failedMigrationNames: [], editedMigrationNames: [] });
        const { appliedMigrationNames } = await handle.engine.applyMigrations({ migrationsList, filters: NO_FILTER });
        expect(appliedMigrationNames).to.deep.equal([]);
      } finally {
        await handle.close();
      }
    });
  });

  it('applies each migration exactly once when several instances start at the same time', async () => {
    const url = await scratchDb();
    const dir = tempMigrations();
    // A slow last migration keeps the lock held long enough for the others to queue behind it.
    addMigration(dir, '99990101000000_slow', 'SELECT pg_sleep(0.5);\nCREATE TABLE "slow_marker" ("id" INT);\n');
    const expected = [...committed, '99990101000000_slow'];

    const results = await Promise.all([1, 2, 3].map(() => applyMigrations(url, () => {}, { migrationsDir: dir })));
    const all = results.flatMap((r) => r.applied);
    expect([...all].sort()).to.deep.equal([...expected].sort());
    expect(results.filter((r) => r.applied.length > 0)).to.have.length(1);

    const rows = await query<{ migration_name: string; n: string }>(
      url,
      'SELECT migration_name, count(*) AS n FROM _prisma_migrations GROUP BY migration_name ORDER BY migration_name',
    );
    expect(rows.map((r) => [r.migration_name, Number(r.n)])).to.deep.equal(expected.map((n) => [n, 1]));
  });

  it('waits for the lock Prisma uses and gives up after lockTimeoutMs', async () => {
    const url = await scratchDb();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
      const error = await rejection(applyMigrations(url, () => {}, { lockTimeoutMs: 300 }));
      expect(error.code).to.equal('LOCK_TIMEOUT');
    } finally {
      await holder.end();
    }
    const { applied } = await applyMigrations(url);
    expect(applied).to.deep.equal(committed);
  });

  it('refuses to go on when an applied migration was edited (checksum differs)', async () => {
    const url = await scratchDb();
    const dir = tempMigrations();
    await applyMigrations(url, () => {}, { migrationsDir: dir });
    const file = path.join(dir, committed[0]!, 'migration.sql');
    const original = readFileSync(file, 'utf8');

    // Line-ending conversions by git are tolerated, as Prisma does.
    writeFileSync(file, original.replaceAll('\n', '\r\n'));
    expect((await applyMigrations(url, () => {}, { migrationsDir: dir })).applied).to.deep.equal([]);

    writeFileSync(file, original);
    appendFileSync(file, '\n-- sneaky edit\n');
    addMigration(dir, '99990101000000_after', 'CREATE TABLE "after_edit" ("id" INT);\n');
    const error = await rejection(applyMigrations(url, () => {}, { migrationsDir: dir }));
    expect(error.code).to.equal('CHECKSUM_MISMATCH');
    expect(error.migrationName).to.equal(committed[0]);
    expect(error.message).to.contain('modified after they were applied');
    // Nothing after the refusal was applied.
    expect(await query(url, `SELECT 1 FROM pg_tables WHERE tablename = 'after_edit'`)).to.have.length(0);

    // The same when the recorded checksum is the one that was tampered with.
    writeFileSync(file, original);
    await query(url, 'UPDATE _prisma_migrations SET checksum = $1 WHERE migration_name = $2', ['0'.repeat(64), committed[0]]);
    expect((await rejection(applyMigrations(url, () => {}, { migrationsDir: dir }))).code).to.equal('CHECKSUM_MISMATCH');
  });

  it('rolls back a failed migration, records it, and stops until it is resolved', async () => {
    const url = await scratchDb();
    const dir = tempMigrations();
    addMigration(dir, '99990101000000_broken', 'CREATE TABLE "half_done" ("id" INT);\nSELECT * FROM "no_such_table";\n');
    addMigration(dir, '99990102000000_next', 'CREATE TABLE "next_one" ("id" INT);\n');

    const error = await rejection(applyMigrations(url, () => {}, { migrationsDir: dir }));
    expect(error.code).to.equal('MIGRATION_FAILED');
    expect(error.migrationName).to.equal('99990101000000_broken');
    expect(error.message).to.contain('no_such_table');

    // The earlier migrations stay applied; the failed one left no table behind; the next did not run.
    const tables = (await query<{ tablename: string }>(url, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).map(
      (t) => t.tablename,
    );
    expect(tables).to.include('products');
    expect(tables).to.not.include.members(['half_done']);
    expect(tables).to.not.include('next_one');
    const failed = await query<Row>(url, `SELECT * FROM _prisma_migrations WHERE migration_name = '99990101000000_broken'`);
    expect(failed).to.have.length(1);
    expect(failed[0]!.finished_at).to.equal(null);
    expect(failed[0]!.applied_steps_count).to.equal(0);
    expect(failed[0]!.logs).to.contain('no_such_table');

    // A restart refuses while the failure is unresolved.
    const again = await rejection(applyMigrations(url, () => {}, { migrationsDir: dir }));
    expect(again.code).to.equal('PREVIOUSLY_FAILED');
    expect(again.message).to.contain('migrate resolve --rolled-back 99990101000000_broken');

    // Fix the migration, mark the attempt rolled back (what `prisma migrate resolve` does): it goes on.
    writeFileSync(path.join(dir, '99990101000000_broken', 'migration.sql'), 'CREATE TABLE "half_done" ("id" INT);\n');
    await query(url, `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '99990101000000_broken'`);
    const { applied } = await applyMigrations(url, () => {}, { migrationsDir: dir });
    expect(applied).to.deep.equal(['99990101000000_broken', '99990102000000_next']);
  });

  it('refuses a non-empty database without migration history', async () => {
    const url = await scratchDb();
    await query(url, 'CREATE TABLE "legacy" ("id" INT)');
    const error = await rejection(applyMigrations(url));
    expect(error.code).to.equal('NON_EMPTY_DATABASE');
  });
});
