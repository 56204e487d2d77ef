import type { KafkaMessage, Producer } from 'kafkajs';
import { headers, mart, topics } from '@mart/proto';
import type { Logger } from '../logger.ts';
import { metrics } from '../metrics.ts';
import { headerString } from './kafka.ts';

/** Copies a message that cannot be handled to the dead-letter topic, with the reason. */
export class DeadLetterPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly logger: Logger,
  ) {}

  async publish(source: { topic: string; partition: number; message: KafkaMessage }, reason: string): Promise<void> {
    const { topic, partition, message } = source;
    const copiedHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      const text = headerString(value);
      if (text !== undefined) copiedHeaders[name] = text;
    }
    const letter = mart.common.DeadLetter.encode({
      topic,
      partition,
      offset: message.offset,
      reason,
      key: message.key ?? Buffer.alloc(0),
      value: message.value ?? Buffer.alloc(0),
      headers: copiedHeaders,
      failedAt: new Date().toISOString(),
    }).finish();
    await this.producer.send({
      topic: topics.deadLetter,
      messages: [
        { key: message.key, value: Buffer.from(letter), headers: { [headers.deadLetterReason]: reason, [headers.sourceTopic]: topic } },
      ],
    });
    metrics.deadLetters.inc({ topic, reason: reason.split(':')[0] ?? reason });
    this.logger.warn({ topic, partition, offset: message.offset, reason }, 'message sent to dead-letter topic');
  }
}
