/**
 * The pure half of the bench's CPU accounting: parse `/proc/stat` and `/proc/<pid>/stat`, and turn
 * two snapshots into CPU per group of processes and per operation. Issue 11 measures CPU as the
 * machine's busy time minus the load generator's own, divided by the operations; the breakdown
 * says where it went. No I/O here (bench/cpu.sampler.ts reads /proc), so a unit test keeps it honest.
 */

/** The `cpu` line of /proc/stat, in clock ticks (guest time is already inside user). */
export interface MachineTicks {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export function parseMachineStat(text: string): MachineTicks {
  const line = text.split('\n').find((candidate) => candidate.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no "cpu" line');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { user: user!, nice: nice!, system: system!, idle: idle!, iowait: iowait!, irq: irq!, softirq: softirq!, steal: steal ?? 0 };
}

/** Busy = user + nice + system + irq + softirq + steal; idle and iowait are not busy. */
export function busyTicks(ticks: MachineTicks): number {
  return ticks.user + ticks.nice + ticks.system + ticks.irq + ticks.softirq + ticks.steal;
}

export interface ProcessTicks {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime of every thread of the process. */
  ticks: number;
  /** Clock ticks after boot at which the process started: tells a reused pid apart. */
  startTicks: number;
}

/** One /proc/<pid>/stat line; `comm` may hold spaces and parentheses, so fields count from the last `)`. */
export function parseProcessStat(text: string): ProcessTicks {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // After ")": state(3) ppid(4) ... utime(14) stime(15) ... starttime(22), numbered as in proc(5).
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(fields[n - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    ppid: field(4),
    ticks: field(14) + field(15),
    startTicks: field(22),
  };
}

/** What the bench knows about a process: its part in the measurement decides what is subtracted. */
export type Role = 'stack' | 'baseline' | 'load' | 'bench';

/** A named process whose descendants count with it (a service and the esbuild it spawned). */
export interface Root {
  name: string;
  pid: number;
  role: Role;
}

/** One moment: the machine's ticks, every process's ticks, and the PostgreSQL processes by kind. */
export interface CpuSnapshot {
  /** Monotonic, in milliseconds. */
  atMs: number;
  machine: MachineTicks;
  processes: ProcessTicks[];
  /** PostgreSQL processes by the group they belong to, e.g. `PostgreSQL (bench database)`. */
  postgres: Map<number, string>;
}

export const POSTGRES_BACKGROUND = 'PostgreSQL (background)';
export const POSTGRES_BENCH = 'PostgreSQL (bench database)';
export const POSTGRES_OTHER = 'PostgreSQL (other databases)';
/** The fallback when pg_stat_activity could not be read: every `postgres:` process. */
export const POSTGRES_ALL = 'PostgreSQL (all)';

/** PostgreSQL backends and workers count with the stack; other databases' backends do not. */
export const stackPostgres = new Set([POSTGRES_BACKGROUND, POSTGRES_BENCH, POSTGRES_ALL]);

export interface CpuGroup {
  name: string;
  /** `other` is every process the bench does not know. */
  role: Role | 'other';
  ms: number;
}

export interface CpuWindow {
  seconds: number;
  /** Machine busy time over the window, all cores together. */
  busyMs: number;
  /** The busy time by /proc/stat field. */
  fields: { userNice: number; system: number; irqSoftirq: number; steal: number };
  /** Load generators and the bench itself: what is subtracted. */
  loadMs: number;
  benchMs: number;
  /** busyMs − loadMs − benchMs: what the system under test (and the machine's other tenants) used. */
  systemMs: number;
  /** Mart's processes only: services, broker, PostgreSQL of the bench database and its background workers. */
  stackMs: number;
  /** Processes the bench does not know (other tenants of the machine, other databases): the noise in systemMs. */
  othersMs: number;
  /** Every group, largest first, then `other processes`, `kernel irq+softirq` and `steal`. */
  groups: CpuGroup[];
}

/**
 * CPU used between two snapshots, by group. A process is in the group of its nearest ancestor
 * among `roots` (so an esbuild child counts with its service), else in its PostgreSQL group,
 * else in `other processes`. A process that started inside the window counts whole; one that
 * ended inside it is lost (the remainder shows as the gap between /proc/stat and the processes).
 */
export function cpuWindow(before: CpuSnapshot, after: CpuSnapshot, roots: Root[], clockTicksPerSecond: number): CpuWindow {
  const toMs = (ticks: number) => (ticks * 1000) / clockTicksPerSecond;
  const earlier = new Map(before.processes.map((process) => [process.pid, process]));
  const byPid = new Map(after.processes.map((process) => [process.pid, process]));
  const rootByPid = new Map(roots.map((root) => [root.pid, root]));
  const groupOf = (pid: number): { name: string; role: CpuGroup['role'] } => {
    for (let current = byPid.get(pid), hops = 0; current && hops < 64; current = byPid.get(current.ppid), hops++) {
      const root = rootByPid.get(current.pid);
      if (root) return root;
    }
    const postgres = after.postgres.get(pid) ?? before.postgres.get(pid);
    if (postgres) return { name: postgres, role: stackPostgres.has(postgres) ? 'stack' : 'other' };
    return { name: 'other processes', role: 'other' };
  };

  const groups = new Map<string, CpuGroup>();
  let processTicks = 0;
  for (const process of after.processes) {
    const previous = earlier.get(process.pid);
    const used = previous && previous.startTicks === process.startTicks ? process.ticks - previous.ticks : process.ticks;
    if (used <= 0) continue;
    processTicks += used;
    const { name, role } = groupOf(process.pid);
    const group = groups.get(name) ?? { name, role, ms: 0 };
    group.ms += toMs(used);
    groups.set(name, group);
  }

  const delta = (field: keyof MachineTicks) => after.machine[field] - before.machine[field];
  const userNiceSystem = delta('user') + delta('nice') + delta('system');
  const busyMs = toMs(busyTicks(after.machine) - busyTicks(before.machine));
  const other = groups.get('other processes') ?? { name: 'other processes', role: 'other', ms: 0 };
  // Time in user/system that no living process accounts for: processes that ended, and tick rounding.
  other.ms += Math.max(0, toMs(userNiceSystem - processTicks));
  groups.set(other.name, other);
  const sum = (role: CpuGroup['role']) => [...groups.values()].filter((group) => group.role === role).reduce((total, g) => total + g.ms, 0);
  const loadMs = sum('load');
  const benchMs = sum('bench');
  const named = [...groups.values()].filter((group) => group.name !== other.name).sort((a, b) => b.ms - a.ms);
  return {
    seconds: (after.atMs - before.atMs) / 1000,
    busyMs,
    fields: {
      userNice: toMs(delta('user') + delta('nice')),
      system: toMs(delta('system')),
      irqSoftirq: toMs(delta('irq') + delta('softirq')),
      steal: toMs(delta('steal')),
    },
    loadMs,
    benchMs,
    systemMs: busyMs - loadMs - benchMs,
    stackMs: sum('stack'),
    othersMs: sum('other'),
    groups: [
      ...named,
      other,
      { name: 'kernel irq+softirq', role: 'other', ms: toMs(delta('irq') + delta('softirq')) },
      { name: 'steal', role: 'other', ms: toMs(delta('steal')) },
    ],
  };
}

/** CPU per operation in ms: the machine's busy time minus the load generators and the bench. */
export interface CpuPerOp {
  /** (busy − load − bench) / ok: issue 11's figure. */
  msPerOp: number;
  /** Mart's own processes only (services, broker, its PostgreSQL): steadier when the machine is shared. */
  stackMsPerOp: number;
  /** What was subtracted, per operation. */
  loadMsPerOp: number;
  /** The system under test's CPU in cores (1 = one core busy all the time). */
  cores: number;
  /** Other tenants' CPU in cores: how noisy the figure is. */
  othersCores: number;
}

export function cpuPerOp(window: CpuWindow, ok: number): CpuPerOp {
  const perOp = (ms: number) => (ok > 0 ? round(ms / ok, 3) : NaN);
  return {
    msPerOp: perOp(window.systemMs),
    stackMsPerOp: perOp(window.stackMs),
    loadMsPerOp: perOp(window.loadMs),
    cores: window.seconds > 0 ? round(window.systemMs / 1000 / window.seconds, 3) : NaN,
    othersCores: window.seconds > 0 ? round(window.othersMs / 1000 / window.seconds, 3) : NaN,
  };
}

/** A group's CPU as a percentage of one core over the window. */
export function percentOfCore(ms: number, seconds: number): number {
  return seconds > 0 ? round(ms / 10 / seconds, 2) : NaN;
}

const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;
