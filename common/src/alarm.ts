import type { Logger } from './logger.ts';

/** The clock an Alarm reads and sets; tests hand in a fake one. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

// setTimeout takes at most 2^31 - 1 ms; a later time is reached in steps.
const longestTimerMs = 2 ** 31 - 1;
const retryMs = { first: 500, max: 30_000 };

/**
 * Runs `work` when the earliest time anyone asked for has come, then again when `work` says the
 * next piece of work is due (null: nothing is). No timer is set while nothing is due, so an idle
 * process stays idle; this replaces jobs that poll on an interval. A run that throws is retried
 * with backoff. Runs never overlap: a wake-up during a run is kept for after it.
 */
export class Alarm {
  private readonly clock: Clock;
  private timer: unknown;
  private dueAt: number | null = null;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failures = 0;

  constructor(
    private readonly options: {
      name: string;
      /** Does what is due now; resolves with when the next work is due, or null. */
      work: () => Promise<Date | null>;
      logger: Logger;
      clock?: Clock;
    },
  ) {
    this.clock = options.clock ?? systemClock;
  }

  get name(): string {
    return this.options.name;
  }

  /** Starts with a run at once, which catches up on whatever came due while nobody was looking. */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Asks for a run at `at` (now when not given), unless one is set for earlier already. */
  wake(at: Date | number = this.clock.now()): void {
    const time = typeof at === 'number' ? at : at.getTime();
    if (this.stopped || (this.dueAt !== null && this.dueAt <= time)) return;
    this.dueAt = time;
    if (this.running) return; // set again once the run ends
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.dueAt = null;
    await this.running;
  }

  /** When the next run is set for, if any (for tests and logs). */
  get nextRunAt(): number | null {
    return this.dueAt;
  }

  private arm(): void {
    this.clock.clearTimeout(this.timer);
    if (this.dueAt === null || this.stopped) return;
    const delay = Math.min(longestTimerMs, Math.max(0, this.dueAt - this.clock.now()));
    this.timer = this.clock.setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    if (this.dueAt !== null && this.dueAt > this.clock.now()) return this.arm(); // a step of a long wait
    this.dueAt = null;
    this.running = this.run().finally(() => {
      this.running = undefined;
      this.arm();
    });
  }

  private async run(): Promise<void> {
    try {
      const next = await this.options.work();
      this.failures = 0;
      if (next) this.wake(next);
    } catch (error) {
      this.failures++;
      const retryInMs = Math.min(retryMs.max, retryMs.first * 2 ** (this.failures - 1));
      this.options.logger.warn({ err: error, job: this.options.name, retryInMs }, 'scheduled work failed; retrying');
      this.wake(this.clock.now() + retryInMs);
    }
  }
}
