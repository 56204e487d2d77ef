/**
 * An RpcClient for what drives db-service from outside a service (the seed, the fault suite, the
 * benches). Each of them needs it for one stretch of set-up (fixtures, a catalog) and then no
 * more, so the client lives exactly as long as the work handed to it: no caller can forget to
 * stop it, or leave its consumer polling the broker while a bench measures.
 */
import { randomUUID } from 'node:crypto';

import { RpcClient, createKafka } from '@mart/common/kafka';
import { createLogger, type Logger } from '@mart/common/logger';

export interface RpcClientSetup {
  /** As a stack gives them (`host:port,host:port`) or as KAFKA_BROKERS is parsed. */
  brokers: string | readonly string[];
  /** Names the Kafka client and the reply topic, `mart.replies.<service>`. */
  service: string;
  /** Deadline of one call; 10 s unless the work sends commands that take longer (a bulk import). */
  timeoutMs?: number;
  /** With the service, names the reply consumer's group; random unless given, so two runs never share one. */
  instanceId?: string;
  /** Silent unless given. */
  logger?: Logger;
}

/**
 * Starts a client, hands it to `work`, and stops it when `work` settles. No wait for the reply
 * consumer's assignment: it reads from where the reply topic ended at start, so no reply is missed.
 */
export async function withRpcClient<T>(setup: RpcClientSetup, work: (rpc: RpcClient) => Promise<T>): Promise<T> {
  const logger = setup.logger ?? createLogger(setup.service, 'silent');
  const rpc = new RpcClient({
    kafka: createKafka({
      clientId: setup.service,
      brokers: typeof setup.brokers === 'string' ? setup.brokers.split(',') : [...setup.brokers],
      logger,
    }),
    service: setup.service,
    instanceId: setup.instanceId ?? randomUUID().slice(0, 8),
    timeoutMs: setup.timeoutMs ?? 10_000,
    logger,
  });
  await rpc.start();
  try {
    return await work(rpc);
  } finally {
    await rpc.stop();
  }
}
