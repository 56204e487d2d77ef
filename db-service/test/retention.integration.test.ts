import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createLogger } from '@mart/common/logger';
import { requiredEnv } from '@mart/common/testing';
import { createDatabase } from '../src/database.ts';
import { applyMigrations } from '../src/migrate.ts';
import { runRetention } from '../src/retention.job.ts';

describe('retention cleanup (real PostgreSQL)', () => {
  const { prisma } = createDatabase(requiredEnv('DATABASE_URL'), 2);
  const hour = 3600_000;

  before(async () => {
    await applyMigrations(requiredEnv('DATABASE_URL'));
  });

  after(async () => {
    await prisma.$disconnect();
  });

  it('deletes processed commands, published events and refresh tokens past retention, and keeps the rest', async () => {
    const now = new Date();
    const old = new Date(now.getTime() - 100 * hour);
    const recent = new Date(now.getTime() - 1 * hour);
    const [oldCommand, newCommand] = [randomUUID(), randomUUID()];
    await prisma.processedCommand.createMany({
      data: [
        { id: oldCommand, commandType: 'test.old', ok: true, reply: new Uint8Array(), createdAt: old },
        { id: newCommand, commandType: 'test.new', ok: true, reply: new Uint8Array(), createdAt: recent },
      ],
    });
    const [oldEvent, unpublishedOld, newEvent] = [randomUUID(), randomUUID(), randomUUID()];
    const event = (eventId: string, publishedAt: Date | null, createdAt: Date) => ({
      eventId,
      topic: 't',
      key: 'k',
      type: 'test',
      payload: new Uint8Array(),
      publishedAt,
      createdAt,
    });
    await prisma.outboxEvent.createMany({
      data: [event(oldEvent, old, old), event(unpublishedOld, null, old), event(newEvent, recent, recent)],
    });
    const token = (expiresAt: Date) => ({
      familyId: randomUUID(),
      principalId: randomUUID(),
      principalKind: 'CUSTOMER' as const,
      tokenHash: randomUUID(),
      expiresAt,
    });
    const [expiredLongAgo, expiredRecently, valid] = [token(old), token(recent), token(new Date(now.getTime() + hour))];
    await prisma.refreshToken.createMany({ data: [expiredLongAgo, expiredRecently, valid] });

    try {
      await checkRetention();
    } finally {
      // Leave no unpublished row behind: a relay in a later suite would have to deal with it.
      await prisma.outboxEvent.deleteMany({ where: { eventId: { in: [oldEvent, unpublishedOld, newEvent] } } });
      await prisma.processedCommand.deleteMany({ where: { id: newCommand } });
      await prisma.refreshToken.deleteMany({
        where: { tokenHash: { in: [expiredLongAgo, expiredRecently, valid].map((t) => t.tokenHash) } },
      });
    }

    async function checkRetention() {
      const deleted = await runRetention({ prisma, logger: createLogger('test', 'silent'), retentionHours: 72 }, now);
      expect(deleted.commands).to.be.at.least(1);
      expect(await prisma.processedCommand.count({ where: { id: { in: [oldCommand, newCommand] } } })).to.equal(1);
      expect(await prisma.processedCommand.count({ where: { id: newCommand } })).to.equal(1);
      // An event never published stays, however old: the relay still owes it to Kafka.
      const left = await prisma.outboxEvent.findMany({
        where: { eventId: { in: [oldEvent, unpublishedOld, newEvent] } },
        select: { eventId: true },
      });
      expect(left.map((row) => row.eventId).sort()).to.deep.equal([unpublishedOld, newEvent].sort());
      const tokens = await prisma.refreshToken.findMany({
        where: { tokenHash: { in: [expiredLongAgo, expiredRecently, valid].map((t) => t.tokenHash) } },
      });
      expect(tokens.map((t) => t.tokenHash).sort()).to.deep.equal([expiredRecently.tokenHash, valid.tokenHash].sort());
    }
  });
});
