import type { Handlers } from '../handler.ts';

export function systemHandlers(instance: string): Handlers {
  return {
    // Answers even when PostgreSQL is down, so callers can tell "db-service down" from "database down".
    'system.ping': async (_input, { db }) => {
      const database = await db.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      );
      return { instance, database };
    },
  };
}
