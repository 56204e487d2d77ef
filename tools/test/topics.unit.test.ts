import { expect } from 'chai';
import { commands, events, headers, mart, topics } from '@mart/proto';
import { brokersFromEnv, decodeMessage } from '../topics.ts';

const id = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

describe('topics CLI: decodeMessage', () => {
  it('decodes a command by its mart-type header, with key, headers and timestamp', () => {
    const value = Buffer.from(commands['brand.create'].request.encode({ id, name: 'Acme' }).finish());
    const decoded = decodeMessage({
      topic: topics.brandCommands,
      partition: 2,
      offset: '7',
      timestamp: '1700000000000',
      key: Buffer.from(id),
      value,
      headers: {
        [headers.type]: Buffer.from('brand.create'),
        [headers.correlationId]: Buffer.from('corr-1'),
        [headers.replyTo]: Buffer.from('mart.replies.brand-service'),
        [headers.traceparent]: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    });
    expect(decoded.type).to.equal('mart.brand.CreateBrand');
    expect(decoded.value).to.deep.include({ id, name: 'Acme' });
    expect(decoded).to.include({ topic: topics.brandCommands, partition: 2, offset: '7', key: id, timestamp: '2023-11-14T22:13:20.000Z' });
    expect(decoded.headers).to.deep.include({ 'mart-correlation-id': 'corr-1', 'mart-reply-to': 'mart.replies.brand-service' });
    expect(decoded.headers.traceparent).to.match(/^00-/);
  });

  it('decodes an ok reply with the command reply type', () => {
    const value = Buffer.from(
      commands['brand.get'].reply
        .encode({ id, name: 'Acme', createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' })
        .finish(),
    );
    const decoded = decodeMessage({
      topic: 'mart.replies.brand-service',
      partition: 0,
      offset: '0',
      value,
      headers: { [headers.type]: 'brand.get.reply', [headers.status]: 'ok', [headers.correlationId]: 'c' },
    });
    expect(decoded.type).to.equal('mart.brand.Brand');
    expect(decoded.status).to.equal('ok');
    expect(decoded.value).to.deep.include({ id, name: 'Acme', createdAt: '2024-01-01T00:00:00.000Z' });
  });

  it('decodes an error reply as mart.common.Error', () => {
    const value = Buffer.from(mart.common.Error.encode({ code: 'not_found', message: 'Brand not found', details: [] }).finish());
    const decoded = decodeMessage({
      topic: 'mart.replies.brand-service',
      partition: 1,
      offset: '3',
      value,
      headers: { [headers.type]: 'brand.get.reply', [headers.status]: 'error' },
    });
    expect(decoded.type).to.equal('mart.common.Error');
    expect(decoded.status).to.equal('error');
    expect(decoded.value).to.deep.include({ code: 'not_found', message: 'Brand not found' });
  });

  it('decodes an event by its mart-type header', () => {
    const value = Buffer.from(events['brand.created'].type.encode({ brand: { id, name: 'Acme' } }).finish());
    const decoded = decodeMessage({
      topic: topics.brandEvents,
      partition: 0,
      offset: '5',
      value,
      headers: { [headers.type]: 'brand.created', [headers.eventId]: 'e-1' },
    });
    expect(decoded.type).to.equal('mart.brand.BrandCreated');
    expect((decoded.value as { brand: { name: string } }).brand.name).to.equal('Acme');
    expect(decoded.headers['mart-event-id']).to.equal('e-1');
  });

  it('decodes a dead letter, and the original message inside it', () => {
    const original = Buffer.from(commands['brand.create'].request.encode({ id, name: 'Acme' }).finish());
    const value = Buffer.from(
      mart.common.DeadLetter.encode({
        topic: topics.brandCommands,
        partition: 4,
        offset: '9',
        reason: 'missing header: mart-correlation-id',
        key: Buffer.from(id),
        value: original,
        headers: { [headers.type]: 'brand.create' },
        failedAt: '2024-01-01T00:00:00.000Z',
      }).finish(),
    );
    const decoded = decodeMessage({
      topic: topics.deadLetter,
      partition: 0,
      offset: '0',
      value,
      headers: { 'mart-dead-letter-reason': 'x' },
    });
    expect(decoded.type).to.equal('mart.common.DeadLetter');
    const letter = decoded.value as { reason: string; topic: string; original: { type: string; value: { name: string } } };
    expect(letter).to.include({ reason: 'missing header: mart-correlation-id', topic: topics.brandCommands });
    expect(letter.original.type).to.equal('mart.brand.CreateBrand');
    expect(letter.original.value.name).to.equal('Acme');
  });

  it('keeps the raw bytes as base64 for an unknown type', () => {
    const decoded = decodeMessage({
      topic: topics.brandCommands,
      partition: 0,
      offset: '1',
      key: null,
      value: Buffer.from([1, 2, 3]),
      headers: { [headers.type]: 'brand.explode' },
    });
    expect(decoded.type).to.equal(null);
    expect(decoded.key).to.equal(null);
    expect(decoded.value).to.deep.equal({ base64: 'AQID' });
  });

  it('keeps the raw bytes when a known type does not decode', () => {
    const decoded = decodeMessage({
      topic: topics.brandEvents,
      partition: 0,
      offset: '1',
      value: Buffer.from([0xff, 0xff, 0xff]),
      headers: { [headers.type]: 'brand.created' },
    });
    expect(decoded.value).to.deep.equal({ base64: '////' });
    expect(decoded.error).to.be.a('string');
  });

  it('reads brokers from KAFKA_BROKERS', () => {
    expect(brokersFromEnv({})).to.deep.equal(['127.0.0.1:9092']);
    expect(brokersFromEnv({ KAFKA_BROKERS: 'a:1, b:2' })).to.deep.equal(['a:1', 'b:2']);
  });
});
