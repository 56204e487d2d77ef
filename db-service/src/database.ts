import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { metrics } from '@mart/common';
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

export function createDatabase(databaseUrl: string, poolSize: number): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg(
      { connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 2000 },
      { statementNameGenerator: statementName },
    ),
  });
}
