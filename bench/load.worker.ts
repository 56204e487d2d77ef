/**
 * The HTTP load generator of `npm run bench`, run as a child process so it never shares an event
 * loop with what it measures: autocannon against one base URL, each request on a path picked at
 * random from a list (random catalog ids, search queries). Prints one JSON RawRun on stdout.
 *
 *   echo '<LoadPlan as JSON>' | tsx bench/load.worker.ts
 */
import fs from 'node:fs';
import autocannon from 'autocannon';
import type { RawRun } from './report.ts';
import { measuredWindow, report } from './window.ts';

export interface LoadPlan {
  base: string;
  paths: string[];
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  /** Requests per second over all connections; none means as fast as answers come (saturation). */
  rate?: number;
  seconds: number;
  /** Untimed run first, so connections, JIT and caches are warm. */
  warmupSeconds: number;
}

function run(plan: LoadPlan, seconds: number): Promise<RawRun> {
  const samples: number[] = [];
  let ok = 0;
  let wrongStatus = 0;
  const errorExamples: string[] = [];
  const pick = () => plan.paths[Math.floor(Math.random() * plan.paths.length)]!;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: plan.base,
        connections: plan.connections,
        duration: seconds,
        ...(plan.rate ? { overallRate: plan.rate } : {}),
        headers: plan.headers,
        requests: [{ method: plan.method ?? 'GET', body: plan.body, setupRequest: (request) => ({ ...request, path: pick() }) }],
      },
      (error, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const failed = result.errors + result.timeouts;
        if (failed > 0 && errorExamples.length < 3) errorExamples.push(`${result.errors} socket errors, ${result.timeouts} timeouts`);
        resolve({ samples, ok, errors: wrongStatus + failed, seconds: result.duration, errorExamples });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        samples.push(Math.round(responseTime * 1000) / 1000);
      } else {
        wrongStatus++;
        if (errorExamples.length < 3) errorExamples.push(`HTTP ${statusCode}`);
      }
    });
  });
}

const plan = JSON.parse(fs.readFileSync(0, 'utf8')) as LoadPlan;
if (plan.warmupSeconds > 0) await run(plan, plan.warmupSeconds);
report(await measuredWindow(() => run(plan, plan.seconds)));
