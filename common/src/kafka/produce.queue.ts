import type { Message, Producer } from 'kafkajs';

interface Queued {
  topic: string;
  message: Message;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Sends the messages queued during one turn of the event loop as one produce request. kafkajs
 * makes a request of every send(), so ten commands (or replies) from one burst of I/O cost the
 * client, the broker and the kernel ten requests; here they cost one. Nothing waits for company:
 * the turn ends as soon as the work already in hand is done.
 */
export class ProduceQueue {
  private queued: Queued[] = [];

  constructor(private readonly producer: Producer) {}

  send(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ topic, message, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.queued;
    this.queued = [];
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of batch) {
      const messages = byTopic.get(topic);
      if (messages) messages.push(message);
      else byTopic.set(topic, [message]);
    }
    this.producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) }).then(
      () => batch.forEach((queued) => queued.resolve()),
      (error: unknown) => batch.forEach((queued) => queued.reject(error)),
    );
  }
}
