import { expect } from 'chai';
import { Alarm } from '@mart/common/alarm';
import { createLogger } from '@mart/common/logger';
import { FakeClock } from '../src/testing/index.ts';

describe('Alarm (fake clock)', () => {
  const logger = createLogger('test', 'silent');
  const start = Date.parse('2026-01-01T00:00:00.000Z');

  function alarmWith(work: (now: number) => Date | null | Promise<Date | null>) {
    const clock = new FakeClock(start);
    const runs: number[] = [];
    const alarm = new Alarm({
      name: 'test',
      logger,
      clock,
      work: async () => {
        runs.push(clock.now() - start);
        return work(clock.now());
      },
    });
    return { alarm, clock, runs };
  }

  it('runs at start, then at each time the work names, and sets no timer while nothing is due', async () => {
    const plan = [start + 5000, start + 12_000, null];
    const { alarm, clock, runs } = alarmWith(() => {
      const next = plan.shift();
      return next ? new Date(next) : null;
    });
    alarm.start();
    await clock.advance(60_000);
    expect(runs).to.deep.equal([0, 5000, 12_000]);
    expect(clock.pending).to.equal(0);
    await alarm.stop();
  });

  it('keeps the earliest of the times it is asked for, and one asked for during a run', async () => {
    let during: (() => void) | undefined;
    const { alarm, clock, runs } = alarmWith(() => {
      during?.();
      during = undefined;
      return null;
    });
    alarm.start();
    await clock.advance(0);
    alarm.wake(start + 30_000);
    alarm.wake(start + 10_000);
    alarm.wake(start + 20_000);
    expect(alarm.nextRunAt).to.equal(start + 10_000);
    during = () => alarm.wake(start + 15_000);
    await clock.advance(10_000);
    expect(runs).to.deep.equal([0, 10_000]);
    await clock.advance(10_000);
    expect(runs).to.deep.equal([0, 10_000, 15_000], 'the wake-up asked for during the run was kept');
    await alarm.stop();
  });

  it('retries a failed run with growing pauses, then carries on', async () => {
    let failures = 3;
    const { alarm, clock, runs } = alarmWith(() => {
      if (failures-- > 0) throw new Error('database away');
      return null;
    });
    alarm.start();
    await clock.advance(10_000);
    expect(runs).to.deep.equal([0, 500, 1500, 3500]);
    expect(clock.pending).to.equal(0);
    await alarm.stop();
  });

  it('does nothing once stopped', async () => {
    const { alarm, clock, runs } = alarmWith(() => new Date(start + 1000));
    alarm.start();
    await clock.advance(0);
    await alarm.stop();
    alarm.wake(start + 500);
    await clock.advance(5000);
    expect(runs).to.deep.equal([0]);
    expect(clock.pending).to.equal(0);
  });
});
