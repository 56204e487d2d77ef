import { expect } from 'chai';
import type { Producer, ProducerBatch } from 'kafkajs';
import { ProduceQueue } from '../src/kafka/produce.queue.ts';

/** The one call of a kafkajs producer the queue makes, recording each batch. */
function fakeProducer(fail?: Error) {
  const batches: ProducerBatch[] = [];
  const producer: Pick<Producer, 'sendBatch'> = {
    sendBatch: async (batch) => {
      batches.push(batch);
      if (fail) throw fail;
      return [];
    },
  };
  return { producer: producer as Producer, batches };
}

describe('ProduceQueue', () => {
  it('sends what is queued in one turn of the event loop as one request, grouped by topic', async () => {
    const { producer, batches } = fakeProducer();
    const queue = new ProduceQueue(producer);
    await Promise.all([queue.send('a', { value: '1' }), queue.send('b', { value: '2' }), queue.send('a', { value: '3' })]);
    expect(batches).to.have.length(1);
    expect(batches[0]!.topicMessages).to.deep.equal([
      { topic: 'a', messages: [{ value: '1' }, { value: '3' }] },
      { topic: 'b', messages: [{ value: '2' }] },
    ]);
    await queue.send('a', { value: '4' });
    expect(batches).to.have.length(2, 'a later turn is a request of its own');
  });

  it('fails every send of a request that fails', async () => {
    const { producer } = fakeProducer(new Error('broker away'));
    const queue = new ProduceQueue(producer);
    const outcomes = await Promise.allSettled([queue.send('a', { value: '1' }), queue.send('a', { value: '2' })]);
    expect(outcomes.map((outcome) => outcome.status)).to.deep.equal(['rejected', 'rejected']);
  });
});
