import type { Logger } from '@mart/common/logger';
import type { PrismaClient } from './database.ts';

const everyMs = 60 * 60 * 1000;

export interface RetentionOptions {
  prisma: PrismaClient;
  logger: Logger;
  retentionHours: number;
}

/**
 * Deletes what is past its retention: processed-command records (a retry older than this is
 * treated as new), published outbox rows, and refresh tokens that expired that long ago.
 */
export async function runRetention(
  options: RetentionOptions,
  now = new Date(),
): Promise<{ commands: number; events: number; refreshTokens: number }> {
  const before = new Date(now.getTime() - options.retentionHours * 3600_000);
  const commands = await options.prisma.processedCommand.deleteMany({ where: { createdAt: { lt: before } } });
  const events = await options.prisma.outboxEvent.deleteMany({ where: { publishedAt: { lt: before } } });
  const refreshTokens = await options.prisma.refreshToken.deleteMany({ where: { expiresAt: { lt: before } } });
  return { commands: commands.count, events: events.count, refreshTokens: refreshTokens.count };
}

/** Runs the retention cleanup a minute after start, then hourly. */
export function startRetentionJob(options: RetentionOptions): { stop(): void } {
  const run = async () => {
    try {
      const deleted = await runRetention(options);
      if (deleted.commands + deleted.events + deleted.refreshTokens > 0) options.logger.info(deleted, 'retention cleanup');
    } catch (error) {
      options.logger.warn({ err: error }, 'retention cleanup failed');
    }
  };
  // Soon after start too, so a service that restarts often still cleans up.
  const first = setTimeout(() => void run(), 60_000);
  const timer = setInterval(() => void run(), everyMs);
  first.unref();
  timer.unref();
  return {
    stop: () => {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
