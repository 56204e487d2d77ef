/**
 * Takes the CPU snapshots bench/cpu.ts compares: /proc/stat, every process's /proc/<pid>/stat,
 * and which PostgreSQL process serves which database (from pg_stat_activity).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type pg from 'pg';
import {
  parseMachineStat,
  parseProcessStat,
  POSTGRES_ALL,
  POSTGRES_BACKGROUND,
  POSTGRES_BENCH,
  POSTGRES_OTHER,
  type CpuSnapshot,
  type ProcessTicks,
} from './cpu.ts';

/** USER_HZ, the unit of /proc's tick counts (100 on Linux almost everywhere). */
export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export const monotonicMs = () => Number(process.hrtime.bigint() / 1000n) / 1000;

function readProcesses(): ProcessTicks[] {
  const processes: ProcessTicks[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      processes.push(parseProcessStat(fs.readFileSync(`/proc/${entry}/stat`, 'utf8')));
    } catch {
      // the process ended between readdir and read: it has nothing left to count
    }
  }
  return processes;
}

export class CpuSampler {
  /**
   * `monitor` is a connection that can read pg_stat_activity (or undefined: every `postgres`
   * process then counts as PostgreSQL (all)); `ownPids` are the bench's own connections.
   */
  constructor(
    private readonly monitor: pg.ClientBase | undefined,
    private readonly database: string,
    private readonly ownPids: number[] = [],
  ) {}

  /**
   * A snapshot at the start of a window queries PostgreSQL before reading /proc, one at the end
   * after, so the query's own CPU stays out of the window.
   */
  async snapshot(edge: 'start' | 'end'): Promise<CpuSnapshot> {
    const activity = edge === 'start' ? await this.postgresProcesses() : undefined;
    const atMs = monotonicMs();
    const machine = parseMachineStat(fs.readFileSync('/proc/stat', 'utf8'));
    const processes = readProcesses();
    const known = activity ?? (await this.postgresProcesses());
    const postgres = new Map<number, string>();
    for (const process of processes) {
      if (process.comm !== 'postgres') continue;
      // The postmaster and backends younger than the query are not in pg_stat_activity.
      postgres.set(process.pid, known ? (known.get(process.pid) ?? POSTGRES_BACKGROUND) : POSTGRES_ALL);
    }
    return { atMs, machine, processes, postgres };
  }

  private async postgresProcesses(): Promise<Map<number, string> | undefined> {
    if (!this.monitor) return undefined;
    try {
      const { rows } = await this.monitor.query<{ pid: number; datname: string | null }>('SELECT pid, datname FROM pg_stat_activity');
      return new Map(
        rows.map(({ pid, datname }) => [
          pid,
          this.ownPids.includes(pid)
            ? POSTGRES_OTHER
            : datname === null
              ? POSTGRES_BACKGROUND
              : datname === this.database
                ? POSTGRES_BENCH
                : POSTGRES_OTHER,
        ]),
      );
    } catch {
      return undefined; // reported as PostgreSQL (all): the breakdown is coarser, the totals are the same
    }
  }
}
