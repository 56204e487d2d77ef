import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from './generated/prisma/client.ts';

export { Prisma, PrismaClient };

/** The client or an interactive transaction: handlers work the same with either. */
export type Db = PrismaClient | Prisma.TransactionClient;

export function createDatabase(databaseUrl: string, poolSize: number): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 2000 }),
  });
}
