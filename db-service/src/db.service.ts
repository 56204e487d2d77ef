import { instanceId } from '@mart/common/config';
import { createHttpApp } from '@mart/common/http';
import { CommandServer, createKafka, createProducer } from '@mart/common/kafka';
import { createLogger, type Logger } from '@mart/common/logger';
import { retryUntil } from '@mart/common/service';
import type { Server } from 'node:http';
import { createCommandExecutor } from './command.executor.ts';
import { handlerSettings, type DbServiceConfig } from './config.ts';
import { createDatabase } from './database.ts';
import { allHandlers } from './handlers/index.ts';
import { applyMigrations } from './migrate.ts';
import { orderExpiryAlarm } from './order.expiry.ts';
import { OutboxRelay } from './outbox.relay.ts';
import { startRetentionJob } from './retention.job.ts';

export interface RunningDbService {
  logger: Logger;
  server: Server;
  stop(): Promise<void>;
}

/** Migrations → Prisma → command consumer → outbox relay → health/ready/metrics over HTTP. */
export async function startDbService(config: DbServiceConfig): Promise<RunningDbService> {
  const logger = createLogger('db-service', config.LOG_LEVEL);
  const instance = instanceId(config, config.PORT);

  // In docker compose PostgreSQL or Kafka may still be starting: wait for them, don't crash-loop.
  await retryUntil('applying migrations', logger, async () => {
    const { applied } = await applyMigrations(config.DATABASE_URL, (message) => logger.info(message));
    logger.info({ applied }, 'migrations up to date');
  });

  const database = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  const { prisma } = database;
  const kafka = createKafka({ clientId: `db-service-${instance}`, brokers: config.KAFKA_BROKERS, logger });
  const producer = createProducer(kafka);
  await retryUntil('connecting to Kafka', logger, () => producer.connect());
  const relay = new OutboxRelay({ prisma, producer, logger });
  const settings = handlerSettings(config);
  const expiry = orderExpiryAlarm({ prisma, settings, logger });
  const executor = createCommandExecutor({
    database,
    handlers: allHandlers(instance),
    settings,
    logger,
    onEventsWritten: () => relay.kick(),
    ordersDueAt: (at) => expiry.wake(at),
  });
  // An instance that stopped may have left events unpublished or orders waiting to expire.
  const onAssigned = () => {
    relay.kick();
    expiry.wake();
  };
  const commandServer = new CommandServer({ kafka, groupId: config.KAFKA_GROUP_ID, execute: executor, logger, onAssigned });
  await retryUntil('starting the command consumer', logger, () => commandServer.start());
  relay.start();
  expiry.start();
  const retention = startRetentionJob({ prisma, logger, retentionHours: config.PROCESSED_COMMAND_RETENTION_HOURS });

  const app = createHttpApp({
    service: 'db-service',
    description: 'Owner of the database: applies Kafka commands; serves health, readiness and metrics only.',
    logger,
    jsonLimit: '1kb',
    readiness: async () => {
      const database = await prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      );
      const kafkaReady = commandServer.isAssigned;
      return { ready: database && kafkaReady, checks: { database, kafka: kafkaReady } };
    },
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(config.PORT, () => resolve(listening));
  });
  logger.info({ port: config.PORT, instance }, 'db-service ready for commands');

  return {
    logger,
    server,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      retention.stop();
      await expiry.stop();
      await commandServer.stop();
      await relay.stop();
      await producer.disconnect();
      await prisma.$disconnect();
    },
  };
}
