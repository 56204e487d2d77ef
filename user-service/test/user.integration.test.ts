import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { loadConfig } from '@mart/common/config';
import { hashPassword } from '@mart/common/credentials';
import { ConflictError, ValidationError } from '@mart/common/errors';
import { RpcClient, createKafka } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { requiredEnv } from '@mart/common/testing';
import { mart } from '@mart/proto';
import { dbServiceConfigSchema } from '../../db-service/src/config.ts';
import { startDbService, type RunningDbService } from '../../db-service/src/db.service.ts';

const { ADMIN, STAFF } = { ADMIN: mart.user.StaffRole.STAFF_ROLE_ADMIN, STAFF: mart.user.StaffRole.STAFF_ROLE_STAFF };

// The staff commands against a real db-service, broker and PostgreSQL, where the last-admin rule
// has to hold under concurrency: commands for different users run on different partitions at once.
describe('staff accounts in db-service (real broker and PostgreSQL)', function () {
  this.timeout(60_000);
  const logger = createLogger('test', 'silent');
  const database = new pg.Pool({ connectionString: requiredEnv('DATABASE_URL'), max: 2 });
  let service: RunningDbService;
  let rpc: RpcClient;
  let passwordHash: string;

  const admins = async (): Promise<string[]> =>
    (await database.query<{ id: string }>(`SELECT id FROM staff_users WHERE role = 'ADMIN' ORDER BY id`)).rows.map((row) => row.id);

  async function createAdmins(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    for (const id of ids) {
      await rpc.call('user.create', { id, email: `admin-${id}@mart.test`, name: 'Admin', passwordHash, role: ADMIN });
    }
    return ids;
  }

  /** Runs `body`, then puts the admins back as they were and removes the accounts it made. */
  async function restoring(body: (existing: string[]) => Promise<string[]>): Promise<void> {
    const existing = await admins();
    const made: string[] = [];
    try {
      made.push(...(await body(existing)));
    } finally {
      await database.query(`UPDATE staff_users SET role = 'ADMIN' WHERE id = ANY($1::uuid[])`, [existing]);
      await database.query(`DELETE FROM staff_users WHERE id = ANY($1::uuid[])`, [made]);
    }
  }

  before(async () => {
    passwordHash = await hashPassword('integration password', 4);
    service = await startDbService(loadConfig(dbServiceConfigSchema, { ...process.env, PORT: '0', LOG_LEVEL: 'silent' }));
    rpc = new RpcClient({
      kafka: createKafka({ clientId: 'it-users', brokers: requiredEnv('KAFKA_BROKERS').split(','), logger }),
      service: 'it-users',
      instanceId: randomUUID().slice(0, 8),
      timeoutMs: 10_000,
      logger,
    });
    await rpc.start();
    await rpc.call('system.ping', {}, { timeoutMs: 15_000 });
  });

  after(async () => {
    await rpc.stop();
    await service.stop();
    await database.end();
  });

  it('leaves exactly one admin when every admin is demoted at once', async () => {
    await restoring(async (existing) => {
      const made = await createAdmins(6);
      const everyAdmin = [...existing, ...made];
      const outcomes = await Promise.allSettled(everyAdmin.map((id) => rpc.call('user.update', { id, role: STAFF })));
      const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as Error] : []));
      expect(refused).to.have.length(1);
      expect(refused[0]).to.be.instanceOf(ConflictError);
      expect(refused[0]!.message).to.equal('The last admin cannot be demoted');
      expect(await admins()).to.have.length(1);
      return made;
    });
  });

  it('leaves exactly one admin when admins are deleted and demoted at once', async () => {
    await restoring(async (existing) => {
      const made = await createAdmins(6);
      // Deleting the pre-existing admins would lose them: demote those, delete only what this test made.
      const outcomes = await Promise.allSettled([
        ...existing.map((id) => rpc.call('user.update', { id, role: STAFF })),
        ...made.map((id) => rpc.call('user.delete', { id })),
      ]);
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).to.have.length(1);
      expect(await admins()).to.have.length(1);
      return made;
    });
  });

  it('creates the first admin only while there is no admin at all', async () => {
    const id = randomUUID();
    const email = `first-${id}@mart.test`;
    await restoring(async (existing) => {
      const untouched = await rpc.call('user.ensure-admin', { id, email, name: 'First', passwordHash });
      expect(untouched.created).to.equal(existing.length === 0);
      await database.query(`UPDATE staff_users SET role = 'STAFF' WHERE role = 'ADMIN'`);

      const created = await rpc.call('user.ensure-admin', { id, email: ` ${email.toUpperCase()} `, name: 'First', passwordHash });
      expect(created.created).to.equal(true);
      const row = await database.query(`SELECT email, role, password_hash FROM staff_users WHERE id = $1`, [id]);
      expect(row.rows[0]).to.deep.equal({ email, role: 'ADMIN', password_hash: passwordHash });
      expect(
        (await rpc.call('user.ensure-admin', { id: randomUUID(), email: `other-${id}@mart.test`, name: 'Other', passwordHash })).created,
      ).to.equal(false);
      return [id];
    });
  });

  it('refuses to store anything but a bcrypt hash as a password', async () => {
    const error = await rpc
      .call('user.create', {
        id: randomUUID(),
        email: `plain-${randomUUID()}@mart.test`,
        name: 'Plain',
        passwordHash: 'hunter22',
        role: STAFF,
      })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).details[0]?.path).to.equal('passwordHash');
  });
});
