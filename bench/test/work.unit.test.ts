import { expect } from 'chai';
import { addMetricCounts, formatWork, parsePrometheus, totalsBy, workFromMetrics, workPerOp, type WorkCounts } from '../work.ts';

const dbMetrics = (commands: Record<string, number>, published: number) =>
  [
    '# HELP mart_db_command_duration_seconds Time db-service spends applying one command',
    '# TYPE mart_db_command_duration_seconds histogram',
    ...Object.entries(commands).flatMap(([command, count]) => [
      `mart_db_command_duration_seconds_bucket{le="0.001",command="${command}",outcome="ok"} 1`,
      `mart_db_command_duration_seconds_count{command="${command}",outcome="ok"} ${count}`,
    ]),
    'mart_db_command_duration_seconds_count{command="order.place",outcome="conflict"} 1',
    `mart_outbox_published_total ${published}`,
    'mart_http_request_duration_seconds_count{method="GET",route="/metrics",status="200"} 40',
  ].join('\n');

describe('bench work counts', () => {
  it('parses the Prometheus text prom-client writes, escaped labels included', () => {
    const samples = parsePrometheus('# TYPE x counter\nx_total{a="q\\"uo\\\\te",b="2"} 3.5\nplain 7\n\n');
    expect(samples).to.deep.equal([
      { name: 'x_total', labels: { a: 'q"uo\\te', b: '2' }, value: 3.5 },
      { name: 'plain', labels: {}, value: 7 },
    ]);
  });

  it('sums a metric by one label, and tells an absent metric from a zero one', () => {
    const samples = parsePrometheus(dbMetrics({ 'order.place': 10, 'payment.record': 4 }, 0));
    expect(totalsBy(samples, 'mart_db_command_duration_seconds_count', 'command')).to.deep.equal({
      'order.place': 11,
      'payment.record': 4,
    });
    expect(totalsBy(samples, 'mart_outbox_published_total')).to.deep.equal({ '': 0 });
    expect(totalsBy(samples, 'mart_db_queries_total')).to.equal(undefined);
  });

  it('counts a service’s HTTP requests without its probes and scrapes', () => {
    const text = [
      'mart_http_request_duration_seconds_count{method="POST",route="/orders",status="201"} 5',
      'mart_http_request_duration_seconds_count{method="GET",route="/orders/:id",status="200"} 7',
      'mart_http_request_duration_seconds_count{method="GET",route="/ready",status="200"} 100',
      'mart_http_request_duration_seconds_count{method="GET",route="/metrics",status="200"} 3',
    ].join('\n');
    expect(workFromMetrics('order-service', text).http).to.deep.equal({ 'order-service': 12 });
  });

  it('adds up the instances of every service', () => {
    const sum = addMetricCounts([
      workFromMetrics('db-service', dbMetrics({ 'order.place': 2 }, 3)),
      workFromMetrics('db-service #2', dbMetrics({ 'order.place': 5 }, 4)),
      workFromMetrics('order-service', 'mart_events_handled_total{event="PaymentSucceeded"} 6'),
    ]);
    expect(sum.commands).to.deep.equal({ 'order.place': 9 });
    expect(sum.outboxPublished).to.equal(7);
    expect(sum.eventsHandled).to.deep.equal({ PaymentSucceeded: 6 });
    expect(sum.queries).to.equal(undefined);
    expect(sum.http).to.deep.equal({ 'db-service': 0, 'db-service #2': 0, 'order-service': 0 });
  });

  describe('workPerOp', () => {
    const counts = (scale: number, extra: Partial<WorkCounts> = {}): WorkCounts => ({
      commands: { 'order.place': 10 * scale, 'payment.record': 10 * scale, 'product.get': 5 },
      outboxPublished: 30 * scale,
      http: { 'order-service': 40 * scale, 'payment-service': 10 * scale },
      kafka: { 'mart.order.commands': 20 * scale, 'mart.order.events': 10 * scale },
      transactions: 50 * scale,
      xids: 1000 + 25 * scale,
      rows: { orders: { inserted: 10 * scale, updated: 10 * scale, deleted: 0 } },
      ...extra,
    });

    it('divides what grew over the window by the operations, largest first', () => {
      const work = workPerOp(counts(1), counts(3), 10);
      expect(work).to.deep.include({
        operations: 10,
        commands: 4,
        commandsBy: { 'order.place': 2, 'payment.record': 2 },
        transactions: 10,
        xids: 5,
        events: { source: 'mart_outbox_published_total', perOp: 6 },
        http: 10,
        httpBy: { 'order-service': 8, 'payment-service': 2 },
        kafkaMessages: 6,
        kafkaBy: { 'mart.order.commands': 4, 'mart.order.events': 2 },
        rowsWritten: 4,
        rowsBy: { orders: 4 },
      });
      expect(work.queries).to.equal(undefined);
    });

    it('prefers the consumers’ own count of events handled when the services expose it', () => {
      const work = workPerOp(
        counts(1, { eventsHandled: { PaymentSucceeded: 2 } }),
        counts(1, { eventsHandled: { PaymentSucceeded: 12 } }),
        10,
      );
      expect(work.events).to.deep.equal({ source: 'mart_events_handled_total', perOp: 1, by: { PaymentSucceeded: 1 } });
    });

    it('says n/a for what db-service does not count yet', () => {
      const text = formatWork('W3', workPerOp(counts(1), counts(2), 10));
      expect(text).to.contain('SQL statements   n/a').and.contain('db commands      2  (order.place 1, payment.record 1)');
    });
  });
});
