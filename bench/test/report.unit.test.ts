import { expect } from 'chai';
import type { CpuPerOp } from '../cpu.ts';
import {
  checkTargets,
  combine,
  formatTable,
  formatTargets,
  ratio,
  ratios,
  selectWorkloads,
  type RawRun,
  type Row,
  type TargetCheck,
} from '../report.ts';

/** A run whose latencies are exactly `samples`, over `seconds`. */
const run = (samples: number[], seconds = 1, errors = 0): RawRun => ({ samples, ok: samples.length, errors, seconds });
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const cpu = (msPerOp: number, stackMsPerOp = msPerOp): CpuPerOp => ({ msPerOp, stackMsPerOp, loadMsPerOp: 0, cores: 1, othersCores: 0.25 });
const row = (key: string, result: RawRun, extra: Partial<Row> = {}): Row => ({
  key,
  workload: key,
  mode: key.endsWith('.max') ? 'max' : 'rate',
  load: 'test',
  result: combine([result]),
  ...extra,
});

describe('bench report', () => {
  describe('combine', () => {
    it('adds up the throughput of parallel load processes and pools their latencies', () => {
      const combined = combine([
        run(oneTo(100), 2),
        run(
          oneTo(100).map((x) => x + 100),
          4,
          3,
        ),
      ]);
      expect(combined.ok).to.equal(200);
      expect(combined.errors).to.equal(3);
      expect(combined.rps).to.equal(75); // 100/2 + 100/4
      expect(combined.latency.p50).to.equal(101);
      expect(combined.latency.p99).to.equal(199);
      expect(combined.parts).to.have.length(2);
      expect(combined.parts![1]!.latency.p50).to.equal(151);
    });

    it('summarises each step of a multi-step operation over every process', () => {
      const steps = (pay: number[]) => ({ ...run([10, 20]), steps: { pay } });
      const combined = combine([steps([1, 2]), steps([3, 4])]);
      expect(combined.steps?.pay).to.include({ count: 4, p50: 3, max: 4 });
    });

    it('has no parts for a single process and refuses none', () => {
      expect(combine([run([1, 2, 3])]).parts).to.equal(undefined);
      expect(() => combine([])).to.throw('at least one run');
    });
  });

  describe('ratio', () => {
    it('divides Mart by its baseline', () => {
      const mart = combine([run([4, 4, 4, 40], 1)]);
      const baseline = combine([run([2, 2, 2, 10, 10, 10, 10, 10], 1)]);
      expect(ratio(mart, baseline)).to.deep.equal({ p50: 0.4, p99: 4, rps: 0.5 });
    });

    it('is NaN rather than infinite when the baseline has nothing', () => {
      expect(ratio(combine([run([1])]), combine([run([])])).rps).to.be.NaN;
    });

    it('compares each row with the row it names', () => {
      const rows = [row('W1.max', run(oneTo(60))), row('B1/W1.max', run(oneTo(100))), row('W2.max', run([1]), { baseline: 'missing' })];
      rows[0]!.baseline = 'B1/W1.max';
      const found = ratios(rows);
      expect(Object.keys(found)).to.deep.equal(['W1.max']);
      expect(found['W1.max']).to.include({ baseline: 'B1/W1.max', rps: 0.6 });
    });
  });

  describe('ratios', () => {
    it('also divides CPU per operation when both rows have it', () => {
      const rows = [
        row('W1.c10', run(oneTo(10)), { baseline: 'B1.alone/W1.c10', cpu: cpu(3) }),
        row('B1.alone/W1.c10', run(oneTo(10)), { cpu: cpu(1.5) }),
      ];
      expect(ratios(rows)['W1.c10']).to.include({ baseline: 'B1.alone/W1.c10', cpu: 2 });
    });
  });

  describe('targets', () => {
    const judged = (checks: TargetCheck[], name: string) => checks.find((check) => check.name.startsWith(name));

    it('wants W1 at ≤ 2.5 ms of CPU per request', () => {
      expect(judged(checkTargets([row('W1.c10', run([1]), { cpu: cpu(2.5) })]), 'CPU per request')).to.include({ value: 2.5, pass: true });
      expect(judged(checkTargets([row('W1.c10', run([1]), { cpu: cpu(2.51) })]), 'CPU per request')).to.include({ pass: false });
    });

    it('misses a CPU figure that could not be measured', () => {
      expect(judged(checkTargets([row('W1.c10', run([]), { cpu: cpu(NaN) })]), 'CPU per request')).to.include({ pass: false });
    });

    it('wants a checkout at ≤ 30 ms of CPU, PAID at p50 ≤ 150 ms, with no error', () => {
      const checks = (paidMs: number, cpuMs: number, errors = 0) =>
        checkTargets([row('W3.c8', run(Array(10).fill(paidMs), 1, errors), { cpu: cpu(cpuMs) })]).map((check) => [check.name, check.pass]);
      expect(checks(150, 30)).to.deep.equal([
        ['CPU per checkout ≤ 30 ms', true],
        ['place → PAID p50 ≤ 150 ms', true],
        ['no error', true],
      ]);
      expect(checks(151, 31, 1).map(([, pass]) => pass)).to.deep.equal([false, false, false]);
    });

    it('wants W1 saturation throughput at 60 % of B1 measured with Mart stopped', () => {
      const share = (martRequests: number) =>
        judged(checkTargets([row('W1.max', run(Array(martRequests).fill(1))), row('B1.alone/W1.max', run(Array(100).fill(1)))]), 'req/s');
      expect(share(60)).to.include({ value: 0.6, pass: true });
      expect(share(59)).to.include({ value: 0.59, pass: false });
      // B1 beside a running Mart is not the baseline of the target.
      expect(checkTargets([row('W1.max', run([1])), row('B1/W1.max', run([1]))])).to.deep.equal([]);
    });

    it('judges the idle stack, the warm start and the largest stateless RSS', () => {
      const checks = checkTargets([], {
        idleStackPercent: 9.99,
        warmStartMs: 10_040,
        statelessRssMiB: { 'order-service': 81, 'auth-service': 70 },
      });
      expect(checks.map((check) => [check.row, check.value, check.pass])).to.deep.equal([
        ['idle', 9.99, true],
        ['start', 10, true], // rounded to a tenth of a second
        ['rss', 81, false],
      ]);
      expect(checks[2]!.name).to.contain('largest: order-service');
    });

    it('judges only what ran', () => {
      expect(checkTargets([row('W2.rate', run([1]))])).to.deep.equal([]);
      expect(checkTargets([row('W1.max', run([1]))])).to.deep.equal([]); // no baseline to compare with
    });
  });

  describe('formatTable', () => {
    it('prints one aligned line per row with its CPU, ratio, noise and load average', () => {
      const rows = [
        row('W1.rate', run(Array(100).fill(2)), { baseline: 'B1/W1.rate', loadAverage: 1.234, cpu: cpu(4, 3.5) }),
        row('B1/W1.rate', run(Array(100).fill(1))),
      ];
      const lines = formatTable(rows).split('\n');
      expect(lines[0]).to.match(
        /^workload\s+mode\s+p50 ms\s+p90 ms\s+p99 ms\s+req\/s\s+CPU ms\/op\s+stack ms\/op\s+errors\s+baseline\s+ratio\s+others\s+load\s+target$/,
      );
      expect(lines).to.have.length(4);
      expect(lines[2])
        .to.contain('p50 ×2.00 p99 ×2.00')
        .and.contain('B1/W1.rate')
        .and.match(/ 4\.00 +3\.50 /);
      expect(lines[2]).to.match(/ 0\.25 +1\.2$/);
      expect(lines[3]).not.to.contain('×');
    });

    it('shows the throughput ratio in a closed loop, and MISS when a target of the row is missed', () => {
      const rows = [row('W1.max', run(oneTo(30)), { baseline: 'B1.alone/W1.max' }), row('B1.alone/W1.max', run(oneTo(100)))];
      const lines = formatTable(rows).split('\n');
      expect(lines[2]).to.contain('req/s ×0.30').and.match(/MISS$/);
      expect(lines[3]).not.to.match(/MISS|PASS/);
    });
  });

  describe('formatTargets', () => {
    it('says how many passed, then each target with its measured value', () => {
      const text = formatTargets(checkTargets([], { idleStackPercent: 86, warmStartMs: 9000 }));
      expect(text.split('\n')).to.deep.equal([
        'Targets (issue 11): 1 PASS, 1 MISS',
        '  MISS  idle        stack CPU while idle ≤ 10 % of one core  (measured 86)',
        '  PASS  start       warm start ≤ 10 s  (measured 9)',
      ]);
    });
  });

  describe('selectWorkloads', () => {
    it('runs everything by default and the named workloads with --only', () => {
      expect([...selectWorkloads(undefined)]).to.deep.equal(['W1', 'W2', 'W3', 'W4', 'B2', 'scale']);
      expect([...selectWorkloads('w3, W1')]).to.deep.equal(['W1', 'W3']);
      expect(() => selectWorkloads('W1,W9')).to.throw('unknown workload W9');
    });
  });
});
