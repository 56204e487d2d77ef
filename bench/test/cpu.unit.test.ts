import { expect } from 'chai';
import {
  busyTicks,
  cpuPerOp,
  cpuWindow,
  parseMachineStat,
  parseProcessStat,
  percentOfCore,
  POSTGRES_BENCH,
  POSTGRES_OTHER,
  type CpuSnapshot,
  type MachineTicks,
  type ProcessTicks,
} from '../cpu.ts';

const machine = (busy: Partial<MachineTicks> = {}): MachineTicks => ({
  user: 0,
  nice: 0,
  system: 0,
  idle: 0,
  iowait: 0,
  irq: 0,
  softirq: 0,
  steal: 0,
  ...busy,
});
const proc = (pid: number, ppid: number, ticks: number, comm = 'node', startTicks = 1): ProcessTicks => ({
  pid,
  ppid,
  comm,
  ticks,
  startTicks,
});
const snapshot = (
  atMs: number,
  ticks: Partial<MachineTicks>,
  processes: ProcessTicks[],
  postgres: [number, string][] = [],
): CpuSnapshot => ({
  atMs,
  machine: machine(ticks),
  processes,
  postgres: new Map(postgres),
});

describe('bench CPU accounting', () => {
  describe('parseMachineStat', () => {
    it('reads the cpu line, not the per-core ones', () => {
      const text = 'cpu  49581 7 19575 161732 687 3 1171 11 5 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1 2\n';
      const ticks = parseMachineStat(text);
      expect(ticks).to.deep.equal({ user: 49581, nice: 7, system: 19575, idle: 161732, iowait: 687, irq: 3, softirq: 1171, steal: 11 });
      // guest (5) is inside user already; idle and iowait are not busy.
      expect(busyTicks(ticks)).to.equal(49581 + 7 + 19575 + 3 + 1171 + 11);
    });
  });

  describe('parseProcessStat', () => {
    it('counts utime + stime, and survives a command name with spaces and parentheses', () => {
      const line = '2207 (postgres: (x) y) S 2206 2207 2207 0 -1 4194368 100 0 0 0 250 40 3 4 20 0 1 0 148398 3133440 415 0';
      expect(parseProcessStat(line)).to.deep.equal({ pid: 2207, comm: 'postgres: (x) y', ppid: 2206, ticks: 290, startTicks: 148398 });
    });
  });

  describe('cpuWindow', () => {
    // 10 s on a machine with 100 ticks a second: the bench (pid 1) started a service (10) with an
    // esbuild child (11), a broker (20) and a load generator (30); PostgreSQL (40, 41) is no one's child.
    const roots = [
      { name: 'bench (this process)', pid: 1, role: 'bench' as const },
      { name: 'product-service', pid: 10, role: 'stack' as const },
      { name: 'kafka broker', pid: 20, role: 'stack' as const },
      { name: 'load generator', pid: 30, role: 'load' as const },
    ];
    const before = snapshot(
      1000,
      { user: 1000, system: 500, idle: 5000, softirq: 10 },
      [
        proc(1, 0, 50),
        proc(10, 1, 100),
        proc(11, 10, 5),
        proc(20, 1, 300),
        proc(30, 1, 0),
        proc(40, 0, 0, 'postgres'),
        proc(50, 0, 70, 'rabbit'),
      ],
      [
        [40, POSTGRES_BENCH],
        [41, POSTGRES_OTHER],
      ],
    );
    const after = snapshot(
      11_000,
      { user: 1900, system: 800, idle: 5800, softirq: 40 },
      [
        proc(1, 0, 52),
        proc(10, 1, 400),
        proc(11, 10, 25),
        proc(20, 1, 400),
        proc(30, 1, 200),
        proc(40, 0, 150, 'postgres'),
        proc(41, 0, 10, 'postgres'),
        proc(50, 0, 90, 'rabbit'),
        proc(60, 1, 30, 'node', 999),
      ],
      [[40, POSTGRES_BENCH]],
    );
    const window = cpuWindow(before, after, roots, 100);
    const ms = (name: string) => window.groups.find((group) => group.name === name)?.ms;

    it('counts a descendant with its nearest root, and PostgreSQL by the database it serves', () => {
      expect(ms('product-service')).to.equal(3200); // (400 - 100) + (25 - 5) ticks
      expect(ms('kafka broker')).to.equal(1000);
      expect(ms('load generator')).to.equal(2000);
      expect(ms(POSTGRES_BENCH)).to.equal(1500);
      expect(ms(POSTGRES_OTHER)).to.equal(100); // known only from the first snapshot
      // The bench's 2 ticks and a child born in the window (pid 60: all of its 30 ticks).
      expect(ms('bench (this process)')).to.equal(320);
    });

    it('puts unknown processes and unaccounted user/system time in "other processes"', () => {
      // user + system grew 1200 ticks; the processes account for 300+20+100+200+150+10+20+2+30 = 832.
      expect(ms('other processes')).to.equal(200 + (1200 - 832) * 10);
      expect(ms('kernel irq+softirq')).to.equal(300);
    });

    it('subtracts the load generators and the bench from the machine busy time', () => {
      expect(window.seconds).to.equal(10);
      expect(window.busyMs).to.equal(12_300);
      expect(window.loadMs).to.equal(2000);
      expect(window.benchMs).to.equal(320);
      expect(window.systemMs).to.equal(12_300 - 2000 - 320);
      expect(window.stackMs).to.equal(3200 + 1000 + 1500);
    });

    it('takes a reused pid for a new process', () => {
      const reused = cpuWindow(
        snapshot(0, {}, [proc(10, 1, 500, 'node', 1)]),
        snapshot(1000, {}, [proc(10, 1, 40, 'node', 2)]),
        roots,
        100,
      );
      expect(reused.groups.find((group) => group.name === 'product-service')?.ms).to.equal(400);
    });

    it('divides by the operations, and gives NaN for none', () => {
      // Others: pid 50, PostgreSQL of another database, and the unaccounted time: 3880 + 100 ms in 10 s.
      expect(cpuPerOp(window, 1000)).to.deep.equal({ msPerOp: 9.98, stackMsPerOp: 5.7, loadMsPerOp: 2, cores: 0.998, othersCores: 0.398 });
      expect(cpuPerOp(window, 0).msPerOp).to.be.NaN;
    });
  });

  it('says CPU time as a percentage of one core', () => {
    expect(percentOfCore(3000, 30)).to.equal(10);
    expect(percentOfCore(100, 0)).to.be.NaN;
  });
});
