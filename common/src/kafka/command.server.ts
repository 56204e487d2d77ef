import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { allTopics, commands, headers, isCommandName, isReplyTopic, mart, type CommandInput, type CommandName } from '@mart/proto';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { metrics } from '../metrics.ts';
import { traceIdOf } from '../tracing.ts';
import { DeadLetterPublisher } from './dead-letter.ts';
import { headerString } from './kafka.ts';
import { ProduceQueue } from './produce.queue.ts';
import { uuidPattern } from '../ids.ts';
import { PartitionedConsumer } from './partitioned.consumer.ts';

/** A reply ready to send: the encoded reply message, or an encoded mart.common.Error. */
export interface EncodedReply {
  status: 'ok' | 'error';
  body: Uint8Array;
}

export interface CommandMeta {
  commandId: string;
  requestId: string | undefined;
  deadline: number;
  /** The caller's correlation id (mart-correlation-id), for logs. */
  correlationId?: string;
  /** W3C trace context of the command (traceparent header); events it emits carry it on. */
  traceparent?: string;
}

/** A command as db-service receives it; for a generic name, its request is that command's input. */
export type DecodedCommand<N extends CommandName = CommandName> = {
  [K in N]: { name: K; request: CommandInput<K>; meta: CommandMeta };
}[N];

/**
 * Applies decoded commands of one partition, in order, and answers each (same order); db-service
 * supplies it (transactions, idempotency). Several commands come at once when they queued up
 * while the partition was busy, so the executor can share one transaction between them.
 */
export type CommandExecutor = (commands: DecodedCommand[]) => Promise<EncodedReply[]>;

type ParsedCommand = DecodedCommand & { replyTo: string; correlationId: string };

export function encodeError(error: AppError): EncodedReply {
  return {
    status: 'error',
    body: mart.common.Error.encode({ code: error.code, message: error.message, details: error.details }).finish(),
  };
}

class PoisonMessage extends Error {}

function decodeCommand<N extends CommandName>(name: N, value: Buffer, meta: CommandMeta): DecodedCommand<N> {
  const request: CommandInput<N> = commands[name].request.decode(value);
  return { name, request, meta };
}

/** At most this many queued commands of a partition are handed to the executor at once (32 gave
 * the same checkouts/s in bench W3, with each command waiting longer for the shared commit). */
const commandBatchSize = 8;
/**
 * Partitions worked on at once. db-service's default pool has 10 connections: more busy lanes
 * would only queue for one, and far fewer would let a few slow commands hold up the rest.
 */
const commandLanesRunning = 8;

/**
 * kafkajs learns of a rebalance from a heartbeat, and heartbeats only between fetches: a member
 * waiting out a long poll leaves partitions a stopped instance gave up unserved until its poll
 * ends (5 s made commands time out when a db-service instance left). Commands wait at most this.
 */
const commandPollMs = 1000;

function commandTopics(): string[] {
  return [...new Set(Object.values(commands).map((definition) => definition.topic))];
}

/**
 * Consumes every command topic in one consumer group (instances share partitions), hands each
 * command to the executor and publishes the reply to the caller's reply topic. A message that
 * cannot be decoded goes to the dead-letter topic; the partition keeps moving.
 */
export class CommandServer {
  private readonly member: PartitionedConsumer;
  private readonly replies: ProduceQueue;
  private readonly deadLetters: DeadLetterPublisher;
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly options: {
      kafka: Kafka;
      groupId: string;
      execute: CommandExecutor;
      logger: Logger;
      /** Called whenever this instance has (re)joined the group and owns its share of the partitions. */
      onAssigned?: () => void;
    },
  ) {
    this.member = new PartitionedConsumer({
      kafka: options.kafka,
      groupId: options.groupId,
      logger: options.logger,
      role: 'command consumer',
      topics: commandTopics(),
      ensure: allTopics(),
      // A new group starts at the beginning so no command sent before it first joined is missed;
      // old commands are past their deadline and skipped cheaply.
      startAt: 'beginning',
      commitIntervalMs: 1000,
      maxWaitTimeInMs: commandPollMs,
      handling: {
        lanes: {
          handle: (topic, partition, messages) => this.handle(topic, partition, messages),
          batchSize: commandBatchSize,
          maxRunning: commandLanesRunning,
        },
      },
      ...(options.onAssigned ? { onAssigned: options.onAssigned } : {}),
    });
    this.replies = new ProduceQueue(this.member.producer);
    this.deadLetters = new DeadLetterPublisher(this.member.producer, options.logger);
  }

  get isAssigned(): boolean {
    return this.member.isAssigned;
  }

  async start(): Promise<void> {
    await this.member.start();
  }

  async stop(): Promise<void> {
    await this.member.stop(5000, () => Promise.all(this.sending));
  }

  /** The commands of one partition that queued up together, in order. */
  private async handle(topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    const due: ParsedCommand[] = [];
    for (const message of messages) {
      let parsed: ParsedCommand;
      try {
        parsed = this.parse(topic, message);
      } catch (error) {
        if (!(error instanceof PoisonMessage)) throw error;
        await this.deadLetters.publish({ topic, partition, message }, error.message);
        await this.replyIfPossible(message, encodeError(new AppError('bad_request', `Rejected command: ${error.message}`)));
        continue;
      }
      if (Date.now() > parsed.meta.deadline) {
        // The caller has already answered its client with 504; applying now would surprise it.
        metrics.commandsExpired.inc({ command: parsed.name });
        // A readiness ping sent while db-service was still starting is routine, not a warning.
        this.options.logger[parsed.name === 'system.ping' ? 'debug' : 'warn'](
          {
            command: parsed.name,
            commandId: parsed.meta.commandId,
            correlationId: parsed.correlationId,
            traceId: traceIdOf(parsed.meta.traceparent),
          },
          'command expired before it was applied',
        );
        continue;
      }
      due.push(parsed);
    }
    if (due.length === 0) return;
    const started = performance.now();
    const replies = await this.options.execute(due).catch((error: unknown) => {
      // The executor maps expected failures itself; anything else must not wedge the partition.
      this.options.logger.error({ err: error, commands: due.map(({ name }) => name) }, 'commands failed unexpectedly');
      return due.map(() => encodeError(new AppError('internal', 'Internal error')));
    });
    const seconds = (performance.now() - started) / 1000;
    due.forEach(({ name, meta, replyTo, correlationId }, i) => {
      const reply = replies[i]!;
      metrics.commandDuration.observe({ command: name, outcome: reply.status }, seconds);
      this.options.logger.debug(
        {
          command: name,
          commandId: meta.commandId,
          correlationId,
          requestId: meta.requestId,
          traceId: traceIdOf(meta.traceparent),
          traceparent: meta.traceparent,
          status: reply.status,
          batch: due.length,
          ms: Math.round(seconds * 1000 * 100) / 100,
        },
        'command handled',
      );
      // The lane moves on while the reply is on its way: replies need no order, and waiting
      // for the broker's ack would add it to every command of the partition.
      const sending = this.send(replyTo, correlationId, name, reply);
      this.sending.add(sending);
      void sending.finally(() => this.sending.delete(sending));
    });
  }

  private parse(topic: string, message: KafkaMessage): ParsedCommand {
    const header = (name: string) => headerString(message.headers?.[name]);
    const name = header(headers.type);
    if (!name || !isCommandName(name)) throw new PoisonMessage(`unknown command type: ${name ?? '(none)'}`);
    const definition = commands[name];
    if (definition.topic !== topic) throw new PoisonMessage(`command ${name} does not belong on ${topic}`);
    const commandId = header(headers.commandId);
    const correlationId = header(headers.correlationId);
    const replyTo = header(headers.replyTo);
    // Digits only: Number('') is 0, which would pass an empty header off as long expired.
    const deadlineHeader = header(headers.deadline) ?? '';
    const deadline = /^\d+$/.test(deadlineHeader) ? Number(deadlineHeader) : Number.NaN;
    if (!commandId || !uuidPattern.test(commandId)) throw new PoisonMessage('missing or invalid header: mart-command-id');
    if (!correlationId) throw new PoisonMessage('missing header: mart-correlation-id');
    if (!replyTo || !isReplyTopic(replyTo)) throw new PoisonMessage('missing or invalid header: mart-reply-to');
    if (!Number.isFinite(deadline)) throw new PoisonMessage('missing or invalid header: mart-deadline');
    // A tombstone (null value) deletes a key in a compacted topic; it is never a command.
    if (message.value === null) throw new PoisonMessage(`no value (tombstone) for ${name}`);
    const traceparent = header(headers.traceparent);
    const meta: CommandMeta = { commandId, requestId: header(headers.requestId), deadline, correlationId };
    if (traceparent) meta.traceparent = traceparent;
    try {
      return { ...decodeCommand(name, message.value, meta), replyTo, correlationId };
    } catch (error) {
      throw new PoisonMessage(`undecodable ${name}: ${(error as Error).message}`);
    }
  }

  private async replyIfPossible(message: KafkaMessage, reply: EncodedReply): Promise<void> {
    const replyTo = headerString(message.headers?.[headers.replyTo]);
    const correlationId = headerString(message.headers?.[headers.correlationId]);
    if (replyTo !== undefined && isReplyTopic(replyTo) && correlationId) await this.send(replyTo, correlationId, 'rejected', reply);
  }

  private async send(replyTo: string, correlationId: string, name: string, reply: EncodedReply): Promise<void> {
    const replyHeaders: IHeaders = {
      [headers.correlationId]: correlationId,
      [headers.status]: reply.status,
      [headers.type]: `${name}.reply`,
    };
    try {
      await this.replies.send(replyTo, { value: Buffer.from(reply.body), headers: replyHeaders });
    } catch (error) {
      // A lost reply costs the caller a timeout; a retry with the same command id gets the
      // stored reply. Retrying here would stall every command behind this one.
      this.options.logger.warn({ err: error, replyTo, command: name }, 'could not send reply');
    }
  }
}
