import { expect } from 'chai';
import { checkTargets, combine, formatTable, ratio, ratios, selectWorkloads, type RawRun, type Row } from '../report.ts';

/** A run whose latencies are exactly `samples`, over `seconds`. */
const run = (samples: number[], seconds = 1, errors = 0): RawRun => ({ samples, ok: samples.length, errors, seconds });
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
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

  describe('targets', () => {
    it('passes W1 at 200/s with p50 ≤ 3 ms and p99 ≤ 15 ms, and misses above', () => {
      const fast = checkTargets([row('W1.rate', run(Array(200).fill(2.5)), { rate: 200 })]);
      expect(fast.map((check) => [check.name, check.pass])).to.deep.equal([
        ['rate reached (≥ 95%)', true],
        ['p50 ≤ 3 ms', true],
        ['p99 ≤ 15 ms', true],
      ]);
      const slow = checkTargets([row('W1.rate', run([...Array(98).fill(3.5), 20, 20]), { rate: 200 })]);
      expect(slow.map((check) => check.pass)).to.deep.equal([false, false, false]);
      expect(slow[0]).to.include({ value: 0.5 }); // 100 of the 200 requests a second asked for
    });

    it('wants W1 throughput at half the direct-Prisma baseline', () => {
      const share = (martRequests: number) =>
        checkTargets([row('W1.max', run(Array(martRequests).fill(1))), row('B1/W1.max', run(Array(100).fill(1)))])[0]!;
      expect(share(50)).to.include({ value: 0.5, pass: true });
      expect(share(49)).to.include({ value: 0.49, pass: false });
    });

    it('wants 200 checkouts/s with no error', () => {
      const checks = (ok: number, errors: number) => checkTargets([row('W3.max', run(Array(ok).fill(50), 1, errors))]);
      expect(checks(200, 0).every((check) => check.pass)).to.equal(true);
      expect(checks(199, 0).map((check) => check.pass)).to.deep.equal([false, true]);
      expect(checks(250, 1).map((check) => check.pass)).to.deep.equal([true, false]);
    });

    it('judges only what ran', () => {
      expect(checkTargets([row('W2.rate', run([1]))])).to.deep.equal([]);
      expect(checkTargets([row('W1.max', run([1]))])).to.deep.equal([]); // no baseline to compare with
    });
  });

  describe('formatTable', () => {
    it('prints one aligned line per row with its ratio and targets', () => {
      const rows = [
        row('W1.rate', run(Array(100).fill(2)), { baseline: 'B1/W1.rate', loadAverage: 1.234 }),
        row('B1/W1.rate', run(Array(100).fill(1))),
      ];
      const lines = formatTable(rows).split('\n');
      expect(lines[0]).to.match(/^workload\s+mode\s+p50 ms\s+p90 ms\s+p99 ms\s+req\/s\s+errors\s+baseline\s+ratio\s+target\s+load$/);
      expect(lines).to.have.length(4);
      expect(lines[2]).to.contain('p50 ×2.00 p99 ×2.00').and.contain('p50 ≤ 3 ms PASS; p99 ≤ 15 ms PASS').and.contain('B1/W1.rate');
      expect(lines[2]).to.match(/ 1\.2$/);
      expect(lines[3]).not.to.contain('×');
    });

    it('shows the throughput ratio at saturation', () => {
      const rows = [row('W1.max', run(oneTo(30)), { baseline: 'B1/W1.max' }), row('B1/W1.max', run(oneTo(100)))];
      expect(formatTable(rows)).to.contain('req/s ×0.30').and.contain('req/s ≥ 50% of B1 MISS');
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
