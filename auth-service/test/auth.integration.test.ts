import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { UnauthorizedError, ValidationError } from '@mart/common/errors';
import type { CommandMeta } from '@mart/common/kafka';
import { requiredEnv } from '@mart/common/testing';
import { mart, type CommandInput, type CommandName } from '@mart/proto';
import { mutationContext } from '../../db-service/src/command.executor.ts';
import { createDatabase, type PrismaClient } from '../../db-service/src/database.ts';
import type { HandlerContext } from '../../db-service/src/handler.ts';
import { authHandlers } from '../../db-service/src/handlers/auth.handlers.ts';
import { applyMigrations } from '../../db-service/src/migrate.ts';
import { testHandlerSettings } from '../../db-service/test/handler.helpers.ts';
import { refreshTokenHash } from '../src/auth.tokens.ts';

const CUSTOMER = mart.auth.PrincipalKind.PRINCIPAL_KIND_CUSTOMER;

// db-service's refresh-token handlers on a real PostgreSQL, each call in its own transaction as
// the command executor runs them, so concurrent rotations race the way two db-service instances would.
describe('refresh-token handlers (real PostgreSQL)', function () {
  this.timeout(30_000);
  const database = new pg.Pool({ connectionString: requiredEnv('DATABASE_URL'), max: 2 });
  let prisma: PrismaClient;
  let customerId: string;

  function apply<N extends CommandName>(name: N, input: Partial<CommandInput<N>>) {
    const handler = authHandlers[name] as (input: unknown, context: HandlerContext) => Promise<unknown>;
    const meta: CommandMeta = { commandId: randomUUID(), requestId: undefined, deadline: Date.now() + 10_000 };
    return prisma.$transaction((db) => handler(input, mutationContext(db, meta, testHandlerSettings).context));
  }

  async function issue(token: string, familyId = randomUUID()) {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    await apply('auth.issue-refresh-token', {
      id: randomUUID(),
      familyId,
      principalId: customerId,
      kind: CUSTOMER,
      tokenHash: refreshTokenHash(token),
      expiresAt,
    });
    return familyId;
  }

  const rotate = (token: string, next: string) =>
    apply('auth.rotate-refresh-token', {
      tokenHash: refreshTokenHash(token),
      newId: randomUUID(),
      newTokenHash: refreshTokenHash(next),
      newExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    }) as Promise<{ reuseDetected?: boolean; email?: string }>;

  const live = async (familyId: string) =>
    Number(
      (await database.query(`SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL`, [familyId])).rows[0].count,
    );

  before(async () => {
    // No db-service has run yet on a fresh test database: bring the schema up to date as it would.
    await applyMigrations(requiredEnv('DATABASE_URL'), () => undefined);
    prisma = createDatabase(requiredEnv('DATABASE_URL'), 4).prisma;
    customerId = randomUUID();
    await database.query(`INSERT INTO customers (id, email, name, password_hash, updated_at) VALUES ($1, $2, 'It', 'x', now())`, [
      customerId,
      `it-${customerId}@example.com`,
    ]);
  });

  after(async () => {
    await database.query(`DELETE FROM refresh_tokens WHERE principal_id = $1`, [customerId]);
    await database.query(`DELETE FROM customers WHERE id = $1`, [customerId]);
    await prisma.$disconnect();
    await database.end();
  });

  it('rotates a token once, into the same family, with the current email', async () => {
    const familyId = await issue('first');
    const result = await rotate('first', 'second');
    expect(result.reuseDetected).to.not.equal(true);
    expect(result.email).to.equal(`it-${customerId}@example.com`);
    const rows = await database.query(`SELECT token_hash, rotated_at IS NOT NULL AS rotated FROM refresh_tokens WHERE family_id = $1`, [
      familyId,
    ]);
    expect(rows.rows).to.have.deep.members([
      { token_hash: refreshTokenHash('first'), rotated: true },
      { token_hash: refreshTokenHash('second'), rotated: false },
    ]);
  });

  it('lets exactly one of several concurrent rotations of a token win, and revokes the family', async () => {
    const familyId = await issue('raced');
    const outcomes = await Promise.all(Array.from({ length: 4 }, (_, i) => rotate('raced', `raced-${i}`).catch((error: Error) => error)));
    const winners = outcomes.filter((outcome) => !(outcome instanceof Error) && !outcome.reuseDetected);
    expect(winners).to.have.length(1);
    // A loser is caught as reuse (which revokes the family), or arrives after that and is refused outright.
    for (const loser of outcomes.filter((outcome) => !winners.includes(outcome))) {
      if (loser instanceof Error) expect(loser).to.be.instanceOf(UnauthorizedError);
      else expect(loser.reuseDetected).to.equal(true);
    }
    expect(await live(familyId)).to.equal(0);
  });

  it('revokes the whole family when a rotated token comes back, and only that family', async () => {
    const familyId = await issue('old');
    const otherFamily = await issue('other session');
    await rotate('old', 'new');
    expect((await rotate('old', 'stolen')).reuseDetected).to.equal(true);
    expect(await live(familyId)).to.equal(0);
    expect(await rotate('new', 'newer').catch((e: unknown) => e)).to.be.instanceOf(UnauthorizedError);
    expect(await live(otherFamily)).to.equal(1);
  });

  it('refuses unknown and expired tokens, and anything that is not a SHA-256 digest', async () => {
    expect(await rotate('never issued', 'x').catch((e: unknown) => e)).to.be.instanceOf(UnauthorizedError);
    const familyId = await issue('expiring');
    await database.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE family_id = $1`, [familyId]);
    expect(await rotate('expiring', 'x').catch((e: unknown) => e)).to.be.instanceOf(UnauthorizedError);
    const plain = await apply('auth.issue-refresh-token', {
      id: randomUUID(),
      familyId: randomUUID(),
      principalId: customerId,
      kind: CUSTOMER,
      tokenHash: 'a-plain-refresh-token',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    }).catch((e: unknown) => e);
    expect(plain).to.be.instanceOf(ValidationError);
  });

  it('logs out a whole session from any of its tokens', async () => {
    const familyId = await issue('session');
    await rotate('session', 'session-2');
    await apply('auth.revoke-refresh-token', { tokenHash: refreshTokenHash('session-2') });
    expect(await live(familyId)).to.equal(0);
    await apply('auth.revoke-refresh-token', { tokenHash: refreshTokenHash('unknown') });
  });
});
