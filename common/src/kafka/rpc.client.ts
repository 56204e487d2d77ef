import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { commands, headers, mart, partitions, replyTopic, type CommandName, type CommandReply, type CommandRequest } from '@mart/proto';
import { AppError, UnavailableError, UpstreamTimeoutError, errorFromReply } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { metrics } from '../metrics.ts';
import { currentTraceparent } from '../tracing.ts';
import { headerString } from './kafka.ts';
import { PartitionedConsumer } from './partitioned.consumer.ts';
import { ProduceQueue } from './produce.queue.ts';

export interface CallOptions {
  /** Overrides the client's default deadline for this call. */
  timeoutMs?: number;
  /** Reuse to retry a mutation safely: db-service applies one command id once. */
  commandId?: string;
  /** The HTTP request id, carried for log correlation. */
  requestId?: string;
  traceparent?: string;
}

/** The typed error an error reply carries: the class, code, message and details db-service threw. */
export function decodeErrorReply(body: Uint8Array): AppError {
  const error = mart.common.Error.decode(body);
  return errorFromReply(
    error.code,
    error.message,
    error.details.map((d) => ({ path: d.path ?? '', message: d.message ?? '' })),
  );
}

/** What a service's routes need of the client: unit tests pass a typed fake of it. */
export type RpcCaller = Pick<RpcClient, 'call'>;

interface PendingCall {
  resolve(reply: KafkaMessage): void;
  reject(error: Error): void;
}

export interface RpcClientOptions {
  kafka: Kafka;
  service: string;
  instanceId: string;
  timeoutMs: number;
  logger: Logger;
}

/**
 * Sends commands to db-service and awaits correlated replies.
 *
 * Every instance reads its service's reply topic in a consumer group of its own, so no
 * rebalance among instances can move a reply away from the instance that waits for it;
 * replies for other instances' correlation ids are dropped. On start the consumer is placed
 * at the topic's end, so no reply to a command sent after start() can be skipped.
 */
export class RpcClient {
  readonly replyTopic: string;
  private readonly pending = new Map<string, PendingCall>();
  private readonly replies: PartitionedConsumer;
  private readonly sends: ProduceQueue;

  constructor(private readonly options: RpcClientOptions) {
    this.replyTopic = replyTopic(options.service);
    const commandTopics = new Set(Object.values(commands).map((definition) => definition.topic));
    this.replies = new PartitionedConsumer({
      kafka: options.kafka,
      groupId: `${this.replyTopic}.${options.instanceId}`,
      logger: options.logger,
      role: 'reply consumer',
      topics: [this.replyTopic],
      ensure: [
        { topic: this.replyTopic, numPartitions: partitions.replies },
        ...[...commandTopics].map((topic) => ({ topic, numPartitions: partitions.commands })),
      ],
      startAt: 'end',
      commitIntervalMs: 5000,
      handling: { inline: (message) => this.onReply(message) },
    });
    this.sends = new ProduceQueue(this.replies.producer);
  }

  async start(): Promise<void> {
    await this.replies.start();
  }

  async stop(): Promise<void> {
    for (const call of this.pending.values()) call.reject(new UnavailableError('Service is shutting down'));
    this.pending.clear();
    await this.replies.stop(0);
  }

  /** True once the reply consumer owns its partitions. */
  get isAssigned(): boolean {
    return this.replies.isAssigned;
  }

  async call<N extends CommandName>(name: N, request: CommandRequest<N>, options: CallOptions = {}): Promise<CommandReply<N>> {
    const definition = commands[name];
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const correlationId = randomUUID();
    const started = performance.now();
    const messageHeaders: IHeaders = {
      [headers.type]: name,
      [headers.commandId]: options.commandId ?? randomUUID(),
      [headers.correlationId]: correlationId,
      [headers.replyTo]: this.replyTopic,
      [headers.deadline]: String(Date.now() + timeoutMs),
    };
    if (options.requestId) messageHeaders[headers.requestId] = options.requestId;
    const traceparent = options.traceparent ?? currentTraceparent();
    if (traceparent) messageHeaders[headers.traceparent] = traceparent;
    const value = Buffer.from(definition.request.encode(request).finish());
    const key = definition.key(request);

    const reply = new Promise<KafkaMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        metrics.rpcTimeouts.inc({ command: name });
        reject(new UpstreamTimeoutError(`No reply to ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
    // The deadline may pass while the send is still in flight; the rejection is awaited below.
    reply.catch(() => undefined);
    metrics.rpcPending.set(this.pending.size);

    // Not awaited before the reply: while the broker is away a send can take far longer than the
    // deadline, and the caller must still get its 504 on time (seen in the fault suite).
    this.sends.send(definition.topic, { key: key ?? null, value, headers: messageHeaders }).catch((error: unknown) => {
      this.pending
        .get(correlationId)
        ?.reject(new UnavailableError(`Kafka is unavailable: ${error instanceof Error ? error.message : String(error)}`));
      this.pending.delete(correlationId);
    });

    try {
      const message = await reply;
      const result = this.decodeReply(name, message);
      metrics.rpcDuration.observe({ command: name, outcome: 'ok' }, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      const outcome = error instanceof AppError ? error.code : 'error';
      metrics.rpcDuration.observe({ command: name, outcome }, (performance.now() - started) / 1000);
      throw error;
    } finally {
      metrics.rpcPending.set(this.pending.size);
    }
  }

  private decodeReply<N extends CommandName>(name: N, message: KafkaMessage): CommandReply<N> {
    const body = message.value ?? Buffer.alloc(0);
    if (headerString(message.headers?.[headers.status]) === 'error') throw decodeErrorReply(body);
    return commands[name].reply.decode(body);
  }

  private onReply(message: KafkaMessage): void {
    const correlationId = headerString(message.headers?.[headers.correlationId]);
    if (!correlationId) return;
    const call = this.pending.get(correlationId);
    // Late replies (after a timeout) and other instances' replies are expected: drop quietly.
    if (!call) return;
    this.pending.delete(correlationId);
    call.resolve(message);
  }
}
