import { expect } from 'chai';
import { boundedRun, printReport, runChaos, type ChaosReport } from '../../chaos.ts';

// The fault suite in the bounded form CI runs: shorter load phases and only the checkout's services.
describe('checkouts under faults (db-service SIGKILL, broker restart, PostgreSQL stop)', () => {
  let report: ChaosReport;

  before(async function () {
    this.timeout(420_000);
    report = await runChaos({ ...boundedRun, log: () => undefined });
    printReport(report);
  });

  it('injected every fault and the stack was ready again within 30 s of each', () => {
    expect(report.faults.map((fault) => fault.fault)).to.have.length(3);
    for (const fault of report.faults) expect(fault.readyAfterMs, fault.fault).to.be.a('number').and.at.most(30_000);
  });

  it('checked out under load: orders were placed and paid, and some hit the stock limit', () => {
    expect(report.counts.orders201).to.be.greaterThan(0);
    expect(report.counts.ordersPaid).to.be.greaterThan(0);
    expect(report.counts.settledInMs, 'settled').to.be.a('number');
  });

  it('lost, doubled and oversold nothing, and every request got a timely answer', () => {
    expect(report.violations).to.deep.equal([]);
  });

  it('sent exactly one paid email per paid order', () => {
    expect(report.counts.paidEmails).to.equal(report.counts.ordersPaid);
  });
});
