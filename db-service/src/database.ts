import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { metrics } from '@mart/common/metrics';
import { Prisma, PrismaClient } from './generated/prisma/client.ts';

export { Prisma, PrismaClient };

/** The client or an interactive transaction: handlers work the same with either. */
export type Db = PrismaClient | Prisma.TransactionClient;

const statementNames = new Map<string, string>();

/**
 * Every SQL statement goes out as a named prepared statement: PostgreSQL parses and plans each
 * distinct text once per connection instead of once per execution. This is also the one place
 * each statement passes through, so it is counted here (mart_db_queries_total).
 */
function statementName({ sql }: { sql: string }): string {
  metrics.dbQueries.inc();
  let name = statementNames.get(sql);
  if (!name) {
    name = `mart_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/** A plain-SQL read: the rows of one statement as pg gives them (timestamps as Date, int8 and numeric as strings). */
export type SqlRead = <T>(query: Prisma.Sql) => Promise<T[]>;

export interface Database {
  prisma: PrismaClient;
  /**
   * Reads on Prisma's own connection pool, past its client: for the hottest queries, where
   * Prisma's work per call (request building, its query interpreter, result mapping) cost more
   * than the SQL. Prisma stays the owner of the schema and of every write.
   */
  read: SqlRead;
}

export function createDatabase(databaseUrl: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 2000 });
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, { statementNameGenerator: statementName, disposeExternalPool: true }),
  });
  const read: SqlRead = async <T>(query: Prisma.Sql) => {
    // `.text` is the SQL with PostgreSQL's $1 placeholders (`.sql` has `?`).
    const result = await pool.query({ name: statementName({ sql: query.text }), text: query.text, values: query.values });
    return result.rows as T[];
  };
  return { prisma, read };
}
