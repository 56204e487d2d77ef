// CI drift check: do the committed migrations produce exactly schema.prisma?
// Applies prisma/migrations to a fresh scratch database with the runner db-service uses
// (src/migrate.ts), then has Prisma's schema engine diff that database against schema.prisma.
// Exit 0 when the diff is empty; exit 1 printing the SQL that a new migration would need;
// exit 2 when the check itself could not run (database unreachable, a migration failed, ...).
//
// Usage: tsx scripts/migration-check.ts [--schema <schema.prisma>] [--migrations <dir>]
// The scratch database mart_migcheck_<pid> is created on $DATABASE_URL's server (default
// postgresql://postgres@127.0.0.1:5432/postgres) and dropped afterwards.

import path from 'node:path';
import { applyMigrations } from '../src/migrate.ts';
import {
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  NO_FILTER,
  createDatabase,
  dropDatabase,
  openSchemaEngine,
  option,
  readSchema,
  serverUrl,
} from './schema-engine.ts';

async function main(): Promise<number> {
  const started = Date.now();
  const argv = process.argv.slice(2);
  const schemaPath = path.resolve(option(argv, 'schema') ?? DEFAULT_SCHEMA_PATH);
  const migrationsDir = path.resolve(option(argv, 'migrations') ?? DEFAULT_MIGRATIONS_DIR);
  const rel = (p: string) => {
    const r = path.relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };

  const server = serverUrl();
  const scratch = `mart_migcheck_${process.pid}`;
  const scratchUrl = await createDatabase(server, scratch);
  try {
    const { applied } = await applyMigrations(scratchUrl, () => {}, { migrationsDir });
    const handle = await openSchemaEngine(scratchUrl);
    let diff;
    try {
      const schema = readSchema(schemaPath);
      diff = await handle.engine.diff({
        // The live scratch database (reached through the driver adapter) ...
        from: { tag: 'schemaDatasource', files: schema.files, configDir: path.dirname(schemaPath) },
        // ... against the data model.
        to: { tag: 'schemaDatamodel', files: schema.files },
        script: true,
        exitCode: true,
        filters: NO_FILTER,
      });
    } finally {
      await handle.close();
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (diff.exitCode === 0) {
      console.log(
        `migration-check: OK — ${applied.length} migration(s) in ${rel(migrationsDir)} produce ${rel(schemaPath)} exactly (${seconds}s)`,
      );
      return 0;
    }
    console.error(
      `migration-check: DRIFT — ${rel(schemaPath)} differs from what the ${applied.length} migration(s) in ${rel(migrationsDir)} produce.\n` +
        'Create a migration for it (npm run migration:create -w @mart/db-service -- <name>). Missing SQL:\n',
    );
    console.log((diff.stdout ?? '').trimEnd());
    return 1;
  } finally {
    await dropDatabase(server, scratch);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('migration-check failed:', error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
