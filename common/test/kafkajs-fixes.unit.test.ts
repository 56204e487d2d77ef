import { expect } from 'chai';
import { kafkajsRequestQueue } from '../src/kafka/kafkajs.fixes.ts';

describe('kafkajs request queue (mended)', () => {
  const queue = (state: { pending: unknown[]; throttledUntil: number }) =>
    Object.assign(Object.create(kafkajsRequestQueue) as typeof kafkajsRequestQueue & { throttleCheckTimeoutId: NodeJS.Timeout | null }, {
      ...state,
      throttleCheckTimeoutId: null,
    });

  it('sets no timer when nothing is pending and nothing throttled (kafkajs 2.2.4 looped every 1 ms here)', () => {
    const idle = queue({ pending: [], throttledUntil: -1 });
    idle.scheduleCheckPendingRequests();
    expect(idle.throttleCheckTimeoutId).to.equal(null);
  });

  it('still schedules a check for pending requests while throttled', () => {
    const throttled = queue({ pending: [{}], throttledUntil: Date.now() + 60_000 });
    throttled.scheduleCheckPendingRequests();
    expect(throttled.throttleCheckTimeoutId).to.not.equal(null);
    clearTimeout(throttled.throttleCheckTimeoutId!);
  });
});
