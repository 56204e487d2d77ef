import type { Server } from 'node:http';
import type { Express } from 'express';
import { instanceId, readKey, type HttpServiceConfig } from './config.ts';
import { createHttpApp, type ReadinessReport } from './http/app.ts';
import type { OpenApiDocument } from './http/openapi.ts';
import { TokenVerifier } from './http/auth.ts';
import type { RouteDefinition } from './http/route.ts';
import { createKafka, type Kafka } from './kafka/kafka.ts';
import { EventConsumer, type EventHandlers } from './kafka/event.consumer.ts';
import { RpcClient, type RpcCaller } from './kafka/rpc.client.ts';
import { createLogger, type Logger } from './logger.ts';

export interface ServiceRuntime {
  service: string;
  config: HttpServiceConfig;
  logger: Logger;
  kafka: Kafka;
  /** Services only call; start, stop and readiness stay with runHttpService. */
  rpc: RpcCaller;
  verifier: TokenVerifier;
}

export interface HttpServiceDefinition {
  service: string;
  description?: string;
  config: HttpServiceConfig;
  routes(runtime: ServiceRuntime): RouteDefinition[];
  beforeBodyParsing?(app: Express, runtime: ServiceRuntime): void;
  amendOpenApi?(document: OpenApiDocument): void;
  /**
   * One-off work that needs db-service (e.g. seeding the first admin): run once Kafka is
   * connected, retried until it succeeds; the service is not ready before it has.
   */
  startup?(runtime: ServiceRuntime): Promise<void>;
  /**
   * What the service does besides answering HTTP, built once: the domain events it reacts to
   * (consumed in a group named after the service) and background jobs, started once Kafka is
   * connected and stopped before it disconnects.
   */
  background?(runtime: ServiceRuntime): { events?: EventHandlers; jobs?: BackgroundJob[] };
}

export interface BackgroundJob {
  name: string;
  start(): void;
  stop(): Promise<void>;
  /** Called when this instance's share of the event partitions changes: work another instance held may now be ours. */
  wake?(): void;
}

export interface RunningService {
  app: Express;
  server: Server;
  runtime: ServiceRuntime;
  stop(): Promise<void>;
}

const pingTimeoutMs = 1000;
const readinessCacheMs = 1000;

/** A db-service round trip, shared by concurrent probes and cached briefly once ready, so probes cannot flood Kafka. */
function readinessProbe(rpc: RpcClient, eventConsumer: EventConsumer | undefined): () => Promise<ReadinessReport> {
  let last: { at: number; report: ReadinessReport } | undefined;
  let inFlight: Promise<ReadinessReport> | undefined;
  const check = async (): Promise<ReadinessReport> => {
    const kafka = rpc.isAssigned;
    const events = eventConsumer?.isAssigned ?? true;
    const pong = kafka ? await rpc.call('system.ping', {}, { timeoutMs: pingTimeoutMs }).catch(() => undefined) : undefined;
    const report = {
      ready: Boolean(pong?.database) && events,
      checks: { kafka, dbService: Boolean(pong), database: Boolean(pong?.database), ...(eventConsumer ? { events } : {}) },
    };
    // Only a success is kept: a service that is not ready yet is asked again at the next probe.
    last = report.ready ? { at: Date.now(), report } : undefined;
    return report;
  };
  return () => {
    if (last && Date.now() - last.at < readinessCacheMs) return Promise.resolve(last.report);
    // Probes that arrive while a ping is out share it, so a burst of probes is one command.
    inFlight ??= check().finally(() => (inFlight = undefined));
    return inFlight;
  };
}

/** Retries `attempt` with capped exponential backoff until it succeeds or `stopped()` says so. */
export async function retryUntil(
  what: string,
  logger: Logger,
  attempt: () => Promise<void>,
  stopped: () => boolean = () => false,
): Promise<void> {
  for (let delay = 250; !stopped(); delay = Math.min(delay * 2, 5000)) {
    try {
      await attempt();
      return;
    } catch (error) {
      logger.warn({ err: error, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Wires config → Kafka → HTTP for one service. The HTTP port opens at once (health 200,
 * ready 503) and Kafka is connected in the background with backoff, so start order does not matter.
 */
export async function runHttpService(definition: HttpServiceDefinition): Promise<RunningService> {
  const { config, service } = definition;
  const logger = createLogger(service, config.LOG_LEVEL);
  const kafka = createKafka({ clientId: service, brokers: config.KAFKA_BROKERS, logger });
  const rpc = new RpcClient({ kafka, service, instanceId: instanceId(config, config.PORT), timeoutMs: config.RPC_TIMEOUT_MS, logger });
  const verifier = new TokenVerifier({
    publicKey: readKey(config.AUTH_PUBLIC_KEY, config.AUTH_PUBLIC_KEY_FILE, 'AUTH_PUBLIC_KEY'),
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
  });
  const runtime: ServiceRuntime = { service, config, logger, kafka, rpc, verifier };
  const { events: handlers, jobs = [] } = definition.background?.(runtime) ?? {};
  const eventConsumer = handlers
    ? new EventConsumer({ kafka, groupId: service, handlers, logger, onAssigned: () => jobs.forEach((job) => job.wake?.()) })
    : undefined;
  let startedUp = !definition.startup;
  const probe = readinessProbe(rpc, eventConsumer);

  const app = createHttpApp({
    service,
    ...(definition.description ? { description: definition.description } : {}),
    logger,
    verifier,
    routes: definition.routes(runtime),
    readiness: async () => {
      const report = await probe();
      return startedUp ? report : { ready: false, checks: { ...report.checks, startup: false } };
    },
    jsonLimit: config.JSON_LIMIT,
    beforeBodyParsing: (express) => definition.beforeBodyParsing?.(express, runtime),
    amendOpenApi: definition.amendOpenApi,
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(config.PORT, () => resolve(listening));
  });
  logger.info({ port: config.PORT }, `${service} listening`);

  let stopping = false;
  const connected = retryUntil(
    'connecting to Kafka',
    logger,
    () => rpc.start(),
    () => stopping,
  )
    .then(() => {
      if (!stopping) logger.info('Kafka request/reply ready');
      const { startup } = definition;
      if (startup)
        return retryUntil(
          'start-up work',
          logger,
          () => startup(runtime),
          () => stopping,
        );
    })
    .then(() =>
      eventConsumer
        ? retryUntil(
            'starting the event consumer',
            logger,
            () => eventConsumer.start(),
            () => stopping,
          )
        : undefined,
    )
    .then(() => {
      startedUp = !stopping;
      if (!stopping) for (const job of jobs) job.start();
    });

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // In-flight requests get a few seconds to finish before their connections are cut.
    setTimeout(() => server.closeAllConnections(), 5000).unref();
    await closed;
    await connected;
    await Promise.all(jobs.map((job) => job.stop()));
    await eventConsumer?.stop().catch((error: unknown) => logger.warn({ err: error }, 'error while stopping the event consumer'));
    await rpc.stop().catch((error: unknown) => logger.warn({ err: error }, 'error while disconnecting from Kafka'));
  };
  return { app, server, runtime, stop };
}

/** Stops the service on SIGTERM/SIGINT and exits; used by every main.ts. */
export function stopOnSignals(running: { stop(): Promise<void> }, logger: Logger): void {
  const handler = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
