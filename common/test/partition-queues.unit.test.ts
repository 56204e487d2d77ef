import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { createLogger } from '../src/logger.ts';
import type { OffsetCommitter } from '../src/kafka/offset.committer.ts';
import { PartitionQueues } from '../src/kafka/partition.queues.ts';
import { FakeClock } from '../src/testing/index.ts';

/** The parts of a kafkajs consumer and of the committer that the lanes use, recording calls. */
function fakes() {
  const emitter = new EventEmitter();
  const calls: string[] = [];
  const topicPartitions = (list: { topic: string; partitions?: number[] }[]) =>
    list.map(({ topic, partitions }) => `${topic}/${partitions?.join(',') ?? '*'}`).join(' ');
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join' },
    on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener),
    pause: (list: { topic: string; partitions?: number[] }[]) => calls.push(`pause ${topicPartitions(list)}`),
    resume: (list: { topic: string; partitions?: number[] }[]) => calls.push(`resume ${topicPartitions(list)}`),
    seek: ({ topic, partition, offset }: { topic: string; partition: number; offset: string }) =>
      calls.push(`seek ${topic}/${partition}@${offset}`),
  };
  const committer = {
    handled: (topic: string, partition: number, offset: string) => calls.push(`handled ${topic}/${partition}@${offset}`),
    forget: (topic: string, partition: number) => calls.push(`forget ${topic}/${partition}`),
  };
  const join = (assignment: Record<string, number[]>) => emitter.emit('consumer.group_join', { payload: { memberAssignment: assignment } });
  return { consumer: consumer as unknown as Consumer, committer: committer as unknown as OffsetCommitter, calls, join };
}

const message = (offset: number): KafkaMessage => ({ offset: String(offset) }) as KafkaMessage;
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A handler whose calls finish only when the test releases them. */
function gatedHandler() {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const handle = (topic: string, partition: number, messages: KafkaMessage[]) =>
    new Promise<void>((resolve) => {
      const key = `${topic}/${partition}@${messages.map((m) => m.offset).join('+')}`;
      started.push(key);
      gates.set(key, resolve);
    });
  const release = async (key: string) => {
    gates.get(key)?.();
    await tick();
  };
  return { handle, started, release };
}

describe('PartitionQueues', () => {
  const logger = createLogger('test', 'silent');

  it('handles a partition in order, one message at a time, and commits each after it is handled', async () => {
    const { consumer, committer, calls } = fakes();
    const handler = gatedHandler();
    const queues = new PartitionQueues({ consumer, committer, logger, handle: handler.handle });
    for (const offset of [0, 1, 2]) void queues.push('t', 0, message(offset));
    await tick();
    expect(handler.started).to.deep.equal(['t/0@0']);
    expect(calls).to.deep.equal([]);
    await handler.release('t/0@0');
    expect(handler.started).to.deep.equal(['t/0@0', 't/0@1']);
    expect(calls).to.deep.equal(['handled t/0@0']);
    await handler.release('t/0@1');
    await handler.release('t/0@2');
    expect(calls).to.deep.equal(['handled t/0@0', 'handled t/0@1', 'handled t/0@2']);
  });

  it('lets other partitions go on while one is slow', async () => {
    const { consumer, committer, calls } = fakes();
    const handler = gatedHandler();
    const queues = new PartitionQueues({ consumer, committer, logger, handle: handler.handle });
    void queues.push('t', 0, message(0));
    void queues.push('t', 1, message(0));
    void queues.push('u', 0, message(7));
    await tick();
    expect(handler.started).to.have.members(['t/0@0', 't/1@0', 'u/0@7']);
    await handler.release('u/0@7');
    await handler.release('t/1@0');
    expect(calls).to.deep.equal(['handled u/0@7', 'handled t/1@0']);
  });

  it('ignores messages it has already queued, as a re-fetch after a consumer restart delivers them again', async () => {
    const { consumer, committer } = fakes();
    const handler = gatedHandler();
    const queues = new PartitionQueues({ consumer, committer, logger, handle: handler.handle });
    for (const offset of [0, 1, 0, 1, 2]) void queues.push('t', 0, message(offset));
    for (const offset of [0, 1, 2]) await handler.release(`t/0@${offset}`);
    expect(handler.started).to.deep.equal(['t/0@0', 't/0@1', 't/0@2']);
  });

  it('hands over what queued up while the lane was busy as one batch, committing its last offset', async () => {
    const { consumer, committer, calls } = fakes();
    const handler = gatedHandler();
    const queues = new PartitionQueues({ consumer, committer, logger, handle: handler.handle, batchSize: 3 });
    for (const offset of [0, 1, 2, 3, 4]) void queues.push('t', 0, message(offset));
    await handler.release('t/0@0');
    await handler.release('t/0@1+2+3');
    await handler.release('t/0@4');
    expect(handler.started).to.deep.equal(['t/0@0', 't/0@1+2+3', 't/0@4']);
    expect(calls).to.deep.equal(['handled t/0@0', 'handled t/0@3', 'handled t/0@4']);
  });

  it('pauses a partition whose lane is full and resumes it once half of it is handled', async () => {
    const { consumer, committer, calls } = fakes();
    const handler = gatedHandler();
    const queues = new PartitionQueues({ consumer, committer, logger, handle: handler.handle, maxQueued: 4 });
    for (const offset of [0, 1, 2, 3, 4]) void queues.push('t', 0, message(offset));
    // 0 is being handled; 1-4 wait: the lane is full.
    expect(calls).to.deep.equal(['pause t/0']);
    await handler.release('t/0@0');
    await handler.release('t/0@1');
    expect(calls).to.deep.equal(['pause t/0', 'handled t/0@0', 'handled t/0@1']);
    await handler.release('t/0@2');
    expect(calls).to.deep.equal(['pause t/0', 'handled t/0@0', 'handled t/0@1', 'handled t/0@2', 'resume t/0']);
  });

  it('drops the lanes of partitions a rebalance moved elsewhere, and does not commit for them', async () => {
    const { consumer, committer, calls, join } = fakes();
    const handler = gatedHandler();
    const queues = new PartitionQueues({ consumer, committer, logger, handle: handler.handle });
    void queues.push('t', 0, message(0));
    void queues.push('t', 0, message(1));
    void queues.push('t', 1, message(0));
    await tick();
    join({ t: [1] });
    await handler.release('t/0@0');
    await handler.release('t/1@0');
    expect(handler.started).to.not.include('t/0@1');
    expect(calls).to.deep.equal(['forget t/0', 'handled t/1@0']);
  });

  it('reads a partition again from a message whose handler threw, after a pause', async () => {
    const { consumer, committer, calls } = fakes();
    let failures = 1;
    const clock = new FakeClock();
    const queues = new PartitionQueues({
      consumer,
      committer,
      logger,
      clock,
      handle: async (_topic, _partition, [m]) => {
        if (m?.offset === '1' && failures-- > 0) throw new Error('dead-letter topic unavailable');
      },
    });
    for (const offset of [0, 1, 2]) void queues.push('t', 0, message(offset));
    await tick();
    void queues.push('t', 0, message(3)); // already fetched: ignored until the partition is re-read
    expect(calls).to.deep.equal(['handled t/0@0', 'pause t/0']);
    await clock.advance(999);
    expect(calls).to.deep.equal(['handled t/0@0', 'pause t/0'], 'still pausing for breath');
    await clock.advance(1);
    expect(calls).to.deep.equal(['handled t/0@0', 'pause t/0', 'seek t/0@1', 'resume t/0']);
    for (const offset of [1, 2]) void queues.push('t', 0, message(offset));
    await tick();
    expect(calls.slice(4)).to.deep.equal(['handled t/0@1', 'handled t/0@2']);
  });

  it('drains: stops fetching and waits for the messages it holds before the consumer leaves', async () => {
    const { consumer, committer, calls } = fakes();
    const handler = gatedHandler();
    const queues = new PartitionQueues({ consumer, committer, logger, handle: handler.handle });
    void queues.push('t', 0, message(0));
    void queues.push('t', 0, message(1));
    let drained = false;
    const draining = queues.drain(['t'], 5000).then(() => (drained = true));
    void queues.push('t', 0, message(2)); // arrives after the stop began: left for the next run
    await handler.release('t/0@0');
    expect(drained).to.equal(false);
    await handler.release('t/0@1');
    await draining;
    expect(calls).to.deep.equal(['pause t/*', 'handled t/0@0', 'handled t/0@1']);
  });

  it('holds the fetch loop back while maxRunning lanes are busy, and lets it go when one is done', async () => {
    const { consumer, committer } = fakes();
    const handler = gatedHandler();
    const queues = new PartitionQueues({ consumer, committer, logger, handle: handler.handle, maxRunning: 2 });
    await queues.push('t', 0, message(0));
    let held = true;
    // The second busy lane reaches the limit: this push (kafkajs' eachMessage) waits.
    const second = queues.push('t', 1, message(0)).then(() => (held = false));
    await tick();
    expect(held).to.equal(true);
    expect(handler.started).to.deep.equal(['t/0@0', 't/1@0']);
    await handler.release('t/0@0');
    await second;
    expect(held).to.equal(false);
  });
});
