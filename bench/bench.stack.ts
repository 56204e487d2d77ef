/**
 * What every benchmark needs around its workload: a fresh database, a broker and the services
 * it measures on ports of its own, the results file, and the memory of each process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { residentKib } from '../tools/process.ts';
import { REPO_ROOT, type ServiceName } from '../tools/services.ts';
import { ensureDatabase, startStack, type Stack } from '../tools/stack.ts';

export interface BenchStack {
  stack: Stack;
  /** From starting the broker and services to every service ready (database creation excluded). */
  readyMs: number;
  /** Stops the stack and removes its temporary files. */
  stop(): Promise<void>;
}

export async function startBenchStack(options: {
  name: string;
  /** Recreated empty before the stack starts. */
  databaseUrl: string;
  services: readonly ServiceName[];
  ports: Partial<Record<ServiceName, number>>;
  kafkaPort: number;
  /** Use the broker in KAFKA_BROKERS when it is set, instead of starting one. */
  allowExternalKafka?: boolean;
  env?: Record<string, string>;
  /** Leave the logs (and broker data) behind, for a look after a failure. */
  keepWork?: boolean;
}): Promise<BenchStack> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `mart-bench-${options.name}-`));
  await ensureDatabase(options.databaseUrl, { fresh: true });
  const external = options.allowExternalKafka ? process.env.KAFKA_BROKERS : undefined;
  const started = performance.now();
  const stack = await startStack({
    kafka: external
      ? { brokers: external }
      : { start: { dataDir: path.join(work, 'kafka'), port: options.kafkaPort, controllerPort: options.kafkaPort + 1 } },
    databaseUrl: options.databaseUrl,
    keysDir: path.join(work, 'keys'),
    logDir: path.join(work, 'logs'),
    services: options.services,
    ports: options.ports,
    env: { LOG_LEVEL: 'warn', NODE_ENV: 'production', ...options.env },
    // The machine is shared: under other engineers' test runs a service can take minutes to start.
    readyTimeoutMs: 180_000,
    log: () => undefined,
  });
  return {
    stack,
    readyMs: performance.now() - started,
    stop: async () => {
      await stack.stop();
      if (options.keepWork) console.log(`logs kept in ${path.join(work, 'logs')}`);
      else fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Resident memory of each service and of the broker, in MiB. */
export function rssMiB(stack: Stack): Record<string, number> {
  const processes = [
    ...stack.services.map((s) => [s.name, s.pid] as const),
    ...(stack.kafkaPid ? [['kafka broker', stack.kafkaPid] as const] : []),
  ];
  return Object.fromEntries(processes.map(([name, pid]) => [name, Math.round((residentKib(pid) ?? 0) / 1024)]));
}

/** Writes bench/results/<kind>-<time>.json (gitignored) and says where. */
export function saveResults(kind: string, data: Record<string, unknown>): void {
  const out = path.join(REPO_ROOT, 'bench', 'results', `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), ...data }, null, 2));
  console.log(`saved ${path.relative(REPO_ROOT, out)}`);
}
