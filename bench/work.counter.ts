/**
 * Takes the counts bench/work.ts divides: every service's /metrics, the messages in every Kafka
 * topic, and PostgreSQL's transaction and row counters for the bench database.
 */
import type pg from 'pg';
import type { createKafka } from '@mart/common/kafka';
import { addMetricCounts, workFromMetrics, type WorkCounts } from './work.ts';

type Admin = ReturnType<ReturnType<typeof createKafka>['admin']>;

export class WorkCounter {
  constructor(
    private readonly options: {
      /** The service instances running now (scale-out adds some). */
      services: () => { name: string; url: string }[];
      admin: Admin;
      /** Connected to any database: reads pg_stat_database and the cluster's next transaction id. */
      monitor: pg.ClientBase;
      /** Connected to the bench database: reads its pg_stat_user_tables. */
      benchDatabase: pg.ClientBase;
      database: string;
    },
  ) {}

  async count(): Promise<WorkCounts> {
    const [metrics, kafka, postgres] = await Promise.all([this.metrics(), this.kafkaMessages(), this.postgres()]);
    return { ...metrics, kafka, ...postgres };
  }

  private async metrics() {
    const scraped = await Promise.all(
      this.options.services().map(async ({ name, url }) => {
        const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
        if (!response.ok) throw new Error(`GET ${url}/metrics: ${response.status}`);
        return workFromMetrics(name, await response.text());
      }),
    );
    return addMetricCounts(scraped);
  }

  private async kafkaMessages(): Promise<Record<string, number>> {
    const topics = (await this.options.admin.listTopics()).filter((topic) => !topic.startsWith('__')).sort();
    const counts = await Promise.all(
      topics.map(async (topic) => {
        const offsets = await this.options.admin.fetchTopicOffsets(topic);
        return [topic, offsets.reduce((sum, partition) => sum + Number(partition.high), 0)] as const;
      }),
    );
    return Object.fromEntries(counts);
  }

  private async postgres(): Promise<Pick<WorkCounts, 'transactions' | 'xids' | 'rows'>> {
    const { monitor, benchDatabase, database } = this.options;
    const [transactions, xids, rows] = await Promise.all([
      monitor.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [database]),
      monitor.query<{ xmax: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax'),
      benchDatabase.query<{ relname: string; ins: string; upd: string; del: string }>(
        'SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del FROM pg_stat_user_tables',
      ),
    ]);
    return {
      transactions: transactions.rows[0] ? Number(transactions.rows[0].n) : undefined,
      xids: xids.rows[0] ? Number(xids.rows[0].xmax) : undefined,
      rows: Object.fromEntries(
        rows.rows.map((row) => [row.relname, { inserted: Number(row.ins), updated: Number(row.upd), deleted: Number(row.del) }]),
      ),
    };
  }
}
