/**
 * What every benchmark needs around its workload: a fresh database, a broker and the services
 * it measures on ports of its own, and the memory of each process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { residentKib } from '../tools/process.ts';
import type { ServiceName } from '../tools/services.ts';
import { ensureDatabase, startStack, type Stack } from '../tools/stack.ts';
import { parseProcessStat } from './cpu.ts';
import { CLOCK_TICKS } from './cpu.sampler.ts';

export interface BenchStack {
  stack: Stack;
  /** From starting the broker and services to every service ready (database creation excluded), of the last start. */
  readyMs: number;
  /** Every start, in order: the first on fresh broker storage, then the restart if `warmRestart` asked for one. */
  starts: StartTiming[];
  /** Stops the stack and removes its temporary files; safe to call twice. */
  stop(): Promise<void>;
}

/** How long one start of the stack took, and where the time went. */
export interface StartTiming {
  readyMs: number;
  services: number;
  /** A fresh data dir makes the broker format its storage first (one more JVM start). */
  brokerStorageFresh: boolean;
  /**
   * From the processes' start times: launch → broker JVM started (jar check, storage format),
   * → broker ready (db-service launched), → db-service ready (the others launched), → all ready.
   */
  phasesMs: { beforeBroker: number; broker: number; dbService: number; otherServices: number };
  /** The processes of this start, by name (the broker as `kafka broker`). */
  pids: Record<string, number>;
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
  /**
   * Start, stop, and start again on the same broker storage and database: the second start is
   * the warm one `npm start` makes on a machine that ran Mart before (jars cached, storage formatted).
   */
  warmRestart?: boolean;
}): Promise<BenchStack> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `mart-bench-${options.name}-`));
  await ensureDatabase(options.databaseUrl, { fresh: true });
  const external = options.allowExternalKafka ? process.env.KAFKA_BROKERS : undefined;
  const kafkaDataDir = path.join(work, 'kafka');
  const start = async (logDir: string): Promise<{ stack: Stack; timing: StartTiming }> => {
    const brokerStorageFresh = !external && !fs.existsSync(path.join(kafkaDataDir, 'data', 'meta.properties'));
    const launchedAt = uptimeSeconds();
    const started = performance.now();
    const stack = await startStack({
      kafka: external
        ? { brokers: external }
        : { start: { dataDir: kafkaDataDir, port: options.kafkaPort, controllerPort: options.kafkaPort + 1 } },
      databaseUrl: options.databaseUrl,
      keysDir: path.join(work, 'keys'),
      logDir,
      services: options.services,
      ports: options.ports,
      env: { LOG_LEVEL: 'warn', NODE_ENV: 'production', ...options.env },
      // The machine is shared: under other engineers' test runs a service can take minutes to start.
      readyTimeoutMs: 180_000,
      log: () => undefined,
    });
    const readyMs = performance.now() - started;
    const pids = stackPids(stack);
    const phasesMs = startPhases(stack, launchedAt, readyMs);
    return { stack, timing: { readyMs, services: stack.services.length, brokerStorageFresh, phasesMs, pids } };
  };

  const starts: StartTiming[] = [];
  let current = await start(path.join(work, 'logs'));
  starts.push(current.timing);
  if (options.warmRestart) {
    await current.stack.stop();
    current = await start(path.join(work, 'logs-warm'));
    starts.push(current.timing);
  }
  let stopped = false;
  return {
    stack: current.stack,
    readyMs: current.timing.readyMs,
    starts,
    stop: async () => {
      await current.stack.stop();
      if (stopped) return;
      stopped = true;
      if (options.keepWork) console.log(`logs kept in ${work}`);
      else fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Seconds since boot, the clock of /proc/<pid>/stat's start times. */
function uptimeSeconds(): number {
  return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

/** When each wave of processes started tells how long the one before it took to get ready. */
function startPhases(stack: Stack, launchedAt: number, readyMs: number): StartTiming['phasesMs'] {
  const startedAt = (pid: number | null) => {
    if (pid === null) return launchedAt;
    try {
      return parseProcessStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')).startTicks / CLOCK_TICKS;
    } catch {
      return NaN;
    }
  };
  const db = stack.services.find((service) => service.name === 'db-service');
  const others = stack.services.filter((service) => service.name !== 'db-service').map((service) => startedAt(service.pid));
  const broker = startedAt(stack.kafkaPid);
  const dbStart = db ? startedAt(db.pid) : broker;
  const othersStart = others.length > 0 ? Math.min(...others) : dbStart;
  const ms = (seconds: number) => Math.round(seconds * 1000);
  return {
    beforeBroker: ms(broker - launchedAt),
    broker: ms(dbStart - broker),
    dbService: ms(othersStart - dbStart),
    otherServices: Math.round(readyMs) - ms(othersStart - launchedAt),
  };
}

/** Each service's pid by name, and the broker's as `kafka broker`. */
export function stackPids(stack: Stack): Record<string, number> {
  return Object.fromEntries([
    ...stack.services.map((service) => [service.name, service.pid] as const),
    ...(stack.kafkaPid ? [['kafka broker', stack.kafkaPid] as const] : []),
  ]);
}

/** Resident memory of each named process, in MiB (0 once it is gone). */
export function rssMiB(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, Math.round((residentKib(pid) ?? 0) / 1024)]));
}
