/**
 * The loop shared by the bench's own load generators (W3 checkouts, B2 Kafka round trips):
 * `rate` starts operations on a fixed schedule whether or not earlier ones are done, up to a
 * bound in flight (for latency); `max` keeps `concurrency` of them going back to back (closed
 * loop, for throughput).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RawRun } from './report.ts';

export interface DrivePlan {
  mode: 'rate' | 'max';
  /** Operations started per second (mode rate). */
  rate: number;
  /** Operations in flight (mode max), or at most in flight (mode rate). */
  concurrency: number;
}

/** `operation` may resolve with the duration of its steps, which are then kept per step. */
export async function drive(plan: DrivePlan, seconds: number, operation: () => Promise<Record<string, number> | void>): Promise<RawRun> {
  const samples: number[] = [];
  const steps: Record<string, number[]> = {};
  const errorExamples: string[] = [];
  let errors = 0;
  const one = async () => {
    const began = performance.now();
    try {
      const stepMs = await operation();
      samples.push(Math.round((performance.now() - began) * 1000) / 1000);
      for (const [step, ms] of Object.entries(stepMs ?? {})) (steps[step] ??= []).push(Math.round(ms * 1000) / 1000);
    } catch (error) {
      errors++;
      if (errorExamples.length < 3) errorExamples.push(String(error));
    }
  };
  const started = performance.now();
  const end = started + seconds * 1000;
  if (plan.mode === 'max') {
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (performance.now() < end) await one();
      }),
    );
  } else {
    // Like autocannon's --overallRate: starts on a schedule, at most `concurrency` in flight, and a
    // start that had to wait is not made up for later, so an overloaded system shows a lower rate.
    const interval = 1000 / plan.rate;
    const inFlight = new Set<Promise<void>>();
    for (let next = started; next < end; next += interval) {
      await sleep(Math.max(0, next - performance.now()));
      while (inFlight.size >= plan.concurrency) await Promise.race(inFlight);
      next = Math.max(next, performance.now() - interval);
      const running = one().finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    await Promise.all(inFlight);
  }
  // Operations still running at the end are waited for and counted, so the window is a little longer.
  return { samples, ok: samples.length, errors, seconds: (performance.now() - started) / 1000, errorExamples, steps };
}
