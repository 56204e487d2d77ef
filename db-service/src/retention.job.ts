import type { Logger } from '@mart/common';
import type { PrismaClient } from './database.ts';

const everyMs = 60 * 60 * 1000;

/** Deletes processed-command records and published outbox rows past their retention, hourly. */
export function startRetentionJob(options: { prisma: PrismaClient; logger: Logger; retentionHours: number }): { stop(): void } {
  const run = async () => {
    const before = new Date(Date.now() - options.retentionHours * 3600_000);
    try {
      const commands = await options.prisma.processedCommand.deleteMany({ where: { createdAt: { lt: before } } });
      const events = await options.prisma.outboxEvent.deleteMany({ where: { publishedAt: { lt: before } } });
      if (commands.count + events.count > 0) options.logger.info({ commands: commands.count, events: events.count }, 'retention cleanup');
    } catch (error) {
      options.logger.warn({ err: error }, 'retention cleanup failed');
    }
  };
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
