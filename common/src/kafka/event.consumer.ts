import type { Kafka, KafkaMessage } from 'kafkajs';
import { v5 as uuidv5 } from 'uuid';
import { allTopics, events, headers, isEventName, type EventMessage, type EventName } from '@mart/proto';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { metrics } from '../metrics.ts';
import { childTraceparent, traceIdOf, withTraceparent } from '../tracing.ts';
import { DeadLetterPublisher } from './dead-letter.ts';
import { headerString } from './kafka.ts';
import { PartitionedConsumer } from './partitioned.consumer.ts';

export interface EventMeta {
  eventId: string;
  topic: string;
  partition: number;
  offset: string;
  /** W3C trace context the event carries (from the command that emitted it). */
  traceparent?: string;
  /**
   * Commits the event's position now, before an effect outside Mart that must not repeat (an
   * email): resolves false, and nothing is committed, when this instance no longer owns the
   * partition (the broker refuses a commit from a member a rebalance left behind; the new owner
   * reads the event) or the broker could not be reached.
   */
  claim(): Promise<boolean>;
}

export type EventHandler<E extends EventName> = (event: EventMessage<E>, meta: EventMeta) => Promise<void>;
export type EventHandlers = { [E in EventName]?: EventHandler<E> };

// Errors that mean "try again later", not "this event is wrong".
const transientCodes = new Set(['unavailable', 'upstream_timeout', 'internal']);
// The uuid v5 namespace of command ids derived from events.
const eventCommandNamespace = 'c0a3c0de-6d61-4f72-8e74-6576656e7473';

/**
 * A command id derived from an event id and a purpose: handling a redelivered event sends
 * the same command id, so db-service applies the effect once.
 */
export function commandIdFor(eventId: string, purpose: string): string {
  return uuidv5(`${eventId}:${purpose}`, eventCommandNamespace);
}

/**
 * Consumes Mart domain events for one service (one consumer group per service, instances share
 * partitions). Per partition, events are handled in order; a transient failure (db-service or
 * Kafka unavailable) is retried in place with backoff so no effect is skipped; an event that
 * cannot be decoded, or that its handler rejects for good, goes to the dead-letter topic.
 */
export class EventConsumer {
  private readonly member: PartitionedConsumer;
  private readonly deadLetters: DeadLetterPublisher;
  private running = false;

  constructor(
    private readonly options: {
      kafka: Kafka;
      groupId: string;
      handlers: EventHandlers;
      logger: Logger;
      maxBackoffMs?: number;
      /** Called whenever this instance has (re)joined the group and owns its share of the partitions. */
      onAssigned?: () => void;
    },
  ) {
    this.member = new PartitionedConsumer({
      kafka: options.kafka,
      groupId: options.groupId,
      logger: options.logger,
      role: 'event consumer',
      topics: this.topics(),
      ensure: allTopics(),
      // A new group reads from the beginning: events written before it first joined still count.
      startAt: 'beginning',
      commitIntervalMs: 1000,
      handling: {
        lanes: {
          handle: (topic, partition, [message]) => this.handle(topic, partition, message!),
          // Handlers mostly wait on db-service; more partitions at once would only add load there.
          maxRunning: 8,
        },
      },
      ...(options.onAssigned ? { onAssigned: options.onAssigned } : {}),
    });
    this.deadLetters = new DeadLetterPublisher(this.member.producer, options.logger);
  }

  get isAssigned(): boolean {
    return this.member.isAssigned;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.member.start();
  }

  async stop(): Promise<void> {
    // Handlers retrying in place give up at once; what they did not finish is read again later.
    this.running = false;
    await this.member.stop(5000);
  }

  private topics(): string[] {
    const names = Object.keys(this.options.handlers) as EventName[];
    return [...new Set(names.map((name) => events[name].topic))];
  }

  private async claim(topic: string, partition: number, offset: string): Promise<boolean> {
    try {
      await this.member.committer.commitNow(topic, partition, offset);
      return true;
    } catch (error) {
      this.options.logger.warn({ err: error, topic, partition, offset }, 'could not claim an event; leaving it to its next reader');
      return false;
    }
  }

  private async handle(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const type = headerString(message.headers?.[headers.type]);
    const eventId = headerString(message.headers?.[headers.eventId]);
    if (!type || !isEventName(type) || !eventId) {
      await this.deadLetters.publish({ topic, partition, message }, `not a Mart event: type=${type ?? '(none)'} id=${eventId ?? '(none)'}`);
      return;
    }
    if (message.value === null) {
      // A tombstone (null value) deletes a key in a compacted topic; it is never an event.
      await this.deadLetters.publish({ topic, partition, message }, `no value (tombstone) for ${type}`);
      return;
    }
    await this.handleEvent(type, eventId, topic, partition, message, message.value);
  }

  /** One event of a known type: decoded by its type's codec and given to its handler, if this service has one. */
  private async handleEvent<E extends EventName>(
    type: E,
    eventId: string,
    topic: string,
    partition: number,
    message: KafkaMessage,
    value: Buffer,
  ): Promise<void> {
    const handler: EventHandler<E> | undefined = this.options.handlers[type];
    if (!handler) return; // another consumer's event on a shared topic
    let event: EventMessage<E>;
    try {
      event = events[type].type.decode(value);
    } catch (error) {
      await this.deadLetters.publish(
        { topic, partition, message },
        `undecodable ${type}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const traceparent = headerString(message.headers?.[headers.traceparent]);
    const meta: EventMeta = {
      eventId,
      topic,
      partition,
      offset: message.offset,
      claim: () => this.claim(topic, partition, message.offset),
    };
    if (traceparent) meta.traceparent = traceparent;
    const traceId = traceIdOf(traceparent);
    this.options.logger.debug({ event: type, eventId, topic, partition, offset: message.offset, traceId, traceparent }, 'event received');
    // Commands sent while handling the event continue its trace.
    const handlerTrace = traceparent ? childTraceparent(traceparent) : undefined;
    for (let attempt = 1, delay = 200; this.running; attempt++, delay = Math.min(delay * 2, this.options.maxBackoffMs ?? 5000)) {
      try {
        await withTraceparent(handlerTrace, () => handler(event, meta));
        metrics.eventsHandled.inc({ event: type });
        return;
      } catch (error) {
        const code = error instanceof AppError ? error.code : 'internal';
        if (!transientCodes.has(code)) {
          await this.deadLetters.publish({ topic, partition, message }, `rejected ${type}: ${code}: ${(error as Error).message}`);
          return;
        }
        metrics.eventRetries.inc({ event: type });
        this.options.logger.warn(
          { err: error, event: type, eventId, traceId, attempt, retryInMs: delay },
          'event handling failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    // Stopping mid-retry: the event must not count as handled, so its offset is not committed.
    throw new Error(`stopped before ${type} ${eventId} was handled`);
  }
}
