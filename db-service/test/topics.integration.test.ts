// The topic CLI (tools/topics.ts) against a real broker: a message produced here is listed and
// tailed back decoded from protobuf to JSON, with its headers.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { testKafka } from '@mart/common/testing';
import { events, headers } from '@mart/proto';
import { listTopics, tailTopic, type DecodedMessage } from '../../tools/topics.ts';

describe('topics CLI against a broker', () => {
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  const kafka = testKafka();
  // A private topic, so no service consumes the test message and parallel suites do not interfere.
  const topic = `mart.test.topics-cli.${randomUUID().slice(0, 8)}`;
  const brandId = randomUUID();
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  before(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [
          {
            key: brandId,
            value: Buffer.from(events['brand.created'].type.encode({ brand: { id: brandId, name: 'Topic CLI' } }).finish()),
            headers: {
              [headers.type]: 'brand.created',
              [headers.eventId]: randomUUID(),
              [headers.correlationId]: 'corr-topics-cli',
              [headers.traceparent]: traceparent,
            },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
  });

  after(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('lists the topic with its partitions, end offsets and a consumer group lag', async () => {
    // A group that has read nothing yet: committed at 0 on both partitions, one message behind.
    const groupId = `test-topics-cli-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.setOffsets({ groupId, topic, partitions: [0, 1].map((partition) => ({ partition, offset: '0' })) });
    } finally {
      await admin.disconnect();
    }
    const reports = await listTopics(brokers);
    const report = reports.find((entry) => entry.topic === topic);
    expect(report, 'topic listed').to.not.equal(undefined);
    expect(report!.partitions).to.have.length(2);
    expect(report!.partitions.reduce((sum, p) => sum + Number(p.endOffset), 0)).to.equal(1);
    expect(report!.groups).to.deep.include({ groupId, lag: 1 });
  });

  it('tails the message decoded to JSON with key and headers', async () => {
    const seen: DecodedMessage[] = [];
    const count = await tailTopic(brokers, topic, { fromBeginning: true, max: 1, timeoutMs: 15_000, onMessage: (m) => seen.push(m) });
    expect(count).to.equal(1);
    const [message] = seen;
    expect(message).to.deep.include({ topic, key: brandId, type: 'mart.brand.BrandCreated', offset: '0' });
    expect(message!.value).to.deep.include({ brand: { id: brandId, name: 'Topic CLI', createdAt: '', updatedAt: '' } });
    expect(message!.headers).to.deep.include({ 'mart-type': 'brand.created', 'mart-correlation-id': 'corr-topics-cli', traceparent });
    expect(Date.parse(message!.timestamp!)).to.be.closeTo(Date.now(), 60_000);
  });
});
