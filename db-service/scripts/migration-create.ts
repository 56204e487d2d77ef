// Writes the next migration: what `prisma migrate dev --create-only --name <name>` does, offline.
// The engine replays the committed migrations on a shadow database, diffs that against
// schema.prisma and renders the SQL (with Prisma's data-loss warnings) into
// prisma/migrations/<UTC timestamp>_<name>/migration.sql. Nothing is applied anywhere else:
// the engine's "main" database is a scratch database created and dropped here.
//
// Usage: tsx scripts/migration-create.ts <name> [--schema <schema.prisma>] [--migrations <dir>]
// Scratch databases go on $DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres).

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyMigrations } from '../src/migrate.ts';
import {
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  MIGRATION_LOCK_TOML,
  NO_FILTER,
  type EngineHandle,
  createDatabase,
  dropDatabase,
  openSchemaEngine,
  option,
  readMigrationsList,
  readSchema,
  serverUrl,
} from './schema-engine.ts';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const valued = new Set(['--schema', '--migrations']);
  const positional = argv.filter((arg, i) => !arg.startsWith('--') && !valued.has(argv[i - 1] ?? ''));
  const rawName = positional[0];
  if (!rawName) {
    console.error('usage: migration-create <name> [--schema <schema.prisma>] [--migrations <dir>]');
    return 2;
  }
  // Prisma's rule: the name becomes part of a folder name, non-word characters become "_".
  const name = rawName
    .trim()
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .slice(0, 200);
  const schemaPath = path.resolve(option(argv, 'schema') ?? DEFAULT_SCHEMA_PATH);
  const migrationsDir = path.resolve(option(argv, 'migrations') ?? DEFAULT_MIGRATIONS_DIR);

  const server = serverUrl();
  const scratch = `mart_migcreate_${process.pid}`;
  const scratchUrl = await createDatabase(server, scratch);
  let handle: EngineHandle | undefined;
  try {
    // The engine's main database stands for a developer database that is up to date.
    await applyMigrations(scratchUrl, () => {}, { migrationsDir });
    handle = await openSchemaEngine(scratchUrl);
    const migrationsList = readMigrationsList(migrationsDir);
    // The wasm engine's createMigration has no shadow-database access of its own: it reuses the
    // schema that devDiagnostic computed from the migrations (on a shadow database) — the same
    // order of calls as `prisma migrate dev`.
    await handle.engine.devDiagnostic({ migrationsList, filters: NO_FILTER });
    const result = await handle.engine.createMigration({
      draft: false,
      migrationName: name,
      migrationsList,
      schema: readSchema(schemaPath),
      filters: NO_FILTER,
    });
    if (result.migrationScript === null) {
      console.log('no changes: the migrations already produce schema.prisma');
      return 0;
    }
    const dir = path.join(migrationsDir, result.generatedMigrationName);
    if (existsSync(dir)) throw new Error(`${dir} already exists`);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `migration.${result.extension}`);
    writeFileSync(file, result.migrationScript, 'utf8');
    const lockFile = path.join(migrationsDir, 'migration_lock.toml');
    if (!existsSync(lockFile)) writeFileSync(lockFile, MIGRATION_LOCK_TOML, 'utf8');
    const shown = path.relative(process.cwd(), file);
    console.log(`created ${shown.startsWith('..') ? file : shown}`);
    return 0;
  } finally {
    await handle?.close();
    await dropDatabase(server, scratch);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('migration-create failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
