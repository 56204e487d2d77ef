import { expect } from 'chai';
import { childTraceparent, currentTraceparent, parseTraceparent, traceIdOf, withTraceparent } from '@mart/common/tracing';

const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C trace context', () => {
  it('parses a valid traceparent', () => {
    expect(parseTraceparent(valid)).to.deep.equal({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentId: '00f067aa0ba902b7',
      flags: '01',
    });
    expect(traceIdOf(valid)).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('rejects malformed ones', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // zero parent id
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // forbidden version
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // version 00 has 4 fields
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', // short trace id
    ]) {
      expect(parseTraceparent(bad), String(bad)).to.equal(undefined);
    }
  });

  it('accepts extra fields from a later version', () => {
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future')?.traceId).to.equal(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
  });

  it('continues a trace with a new parent id, or starts a sampled one', () => {
    const child = parseTraceparent(childTraceparent(valid));
    expect(child?.traceId).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child?.parentId)
      .to.match(/^[0-9a-f]{16}$/)
      .and.not.equal('00f067aa0ba902b7');
    expect(child?.flags).to.equal('01');
    const fresh = childTraceparent('not a traceparent');
    expect(parseTraceparent(fresh)?.flags).to.equal('01');
    expect(traceIdOf(fresh)).to.not.equal(traceIdOf(childTraceparent()));
  });

  it('keeps the current traceparent across awaits', async () => {
    expect(currentTraceparent()).to.equal(undefined);
    const seen = await withTraceparent(valid, async () => {
      await new Promise(setImmediate); // across a turn of the event loop
      return currentTraceparent();
    });
    expect(seen).to.equal(valid);
    expect(withTraceparent(undefined, () => currentTraceparent())).to.equal(undefined);
  });
});
