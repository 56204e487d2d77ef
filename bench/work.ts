/**
 * The pure half of counting the work per operation (issue 11: commands, SQL, transactions, event
 * deliveries and HTTP requests per checkout): parse the services' Prometheus text, and divide the
 * difference of two counts by the operations. bench/work.counter.ts takes the counts.
 */

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition format, as prom-client writes it (no timestamps needed). */
export function parsePrometheus(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[4]) });
  }
  return samples;
}

/** The sum of metric `name` by the value of label `by` (all under `''` without one); absent when no sample has that name. */
export function totalsBy(samples: MetricSample[], name: string, by?: string): Record<string, number> | undefined {
  const matching = samples.filter((sample) => sample.name === name);
  if (matching.length === 0) return undefined;
  const totals: Record<string, number> = {};
  for (const sample of matching) {
    const key = by ? (sample.labels[by] ?? '') : '';
    totals[key] = (totals[key] ?? 0) + sample.value;
  }
  return totals;
}

/** Probes and scrapes, which are not the workload's HTTP requests. */
export const QUIET_ROUTES = new Set(['/health', '/ready', '/metrics']);

/** Counters at one moment, summed over every instance of every service. */
export interface WorkCounts {
  /** db-service commands applied, by command (mart_db_command_duration_seconds_count). */
  commands: Record<string, number>;
  /** SQL statements (mart_db_queries_total), when db-service exposes it. */
  queries?: number;
  /** Events handled by consumers, by event (mart_events_handled_total), when the services expose it. */
  eventsHandled?: Record<string, number>;
  /** Outbox events relayed to Kafka (mart_outbox_published_total). */
  outboxPublished?: number;
  /** HTTP requests answered, by service (probes and scrapes excluded). */
  http: Record<string, number>;
  /** Messages in each Kafka topic (sum of the partitions' end offsets). */
  kafka: Record<string, number>;
  /** pg_stat_database.xact_commit + xact_rollback of the bench database (flushed by backends up to ~1 s late). */
  transactions?: number;
  /** Transaction ids assigned in the whole cluster (write transactions and subtransactions; exact and immediate). */
  xids?: number;
  /** Rows inserted, updated and deleted in the bench database, by table (pg_stat_user_tables). */
  rows?: Record<string, { inserted: number; updated: number; deleted: number }>;
}

/** From one service's /metrics: the counters that `WorkCounts` sums. */
export function workFromMetrics(
  service: string,
  text: string,
): Pick<WorkCounts, 'commands' | 'queries' | 'eventsHandled' | 'outboxPublished' | 'http'> {
  const samples = parsePrometheus(text);
  const httpByRoute = Object.entries(totalsBy(samples, 'mart_http_request_duration_seconds_count', 'route') ?? {});
  return {
    commands: totalsBy(samples, 'mart_db_command_duration_seconds_count', 'command') ?? {},
    queries: totalsBy(samples, 'mart_db_queries_total')?.[''],
    eventsHandled: totalsBy(samples, 'mart_events_handled_total', 'event'),
    outboxPublished: totalsBy(samples, 'mart_outbox_published_total')?.[''],
    http: { [service]: httpByRoute.filter(([route]) => !QUIET_ROUTES.has(route)).reduce((sum, [, count]) => sum + count, 0) },
  };
}

const addRecords = (a: Record<string, number> | undefined, b: Record<string, number> | undefined) => {
  if (!a && !b) return undefined;
  const sum: Record<string, number> = { ...a };
  for (const [key, value] of Object.entries(b ?? {})) sum[key] = (sum[key] ?? 0) + value;
  return sum;
};
const addOptional = (a: number | undefined, b: number | undefined) =>
  a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);

/** Several services' counters as one (a scaled-out service's instances add up). */
export function addMetricCounts(parts: ReturnType<typeof workFromMetrics>[]): ReturnType<typeof workFromMetrics> {
  return parts.reduce(
    (sum, part) => ({
      commands: addRecords(sum.commands, part.commands) ?? {},
      queries: addOptional(sum.queries, part.queries),
      eventsHandled: addRecords(sum.eventsHandled, part.eventsHandled),
      outboxPublished: addOptional(sum.outboxPublished, part.outboxPublished),
      http: addRecords(sum.http, part.http) ?? {},
    }),
    { commands: {}, http: {} },
  );
}

/** The work of one operation: each count's growth over the window divided by the operations. */
export interface WorkPerOp {
  operations: number;
  commands: number;
  commandsBy: Record<string, number>;
  /** Undefined when db-service does not count its SQL statements. */
  queries?: number;
  transactions?: number;
  xids?: number;
  /** mart_events_handled_total where the services expose it, else the outbox's published events. */
  events?: { source: 'mart_events_handled_total' | 'mart_outbox_published_total'; perOp: number; by?: Record<string, number> };
  http: number;
  httpBy: Record<string, number>;
  kafkaMessages: number;
  kafkaBy: Record<string, number>;
  rowsWritten?: number;
  rowsBy?: Record<string, number>;
}

const perOp = (value: number, operations: number) => (operations > 0 ? Math.round((value / operations) * 100) / 100 : NaN);

/** Growth of each key, per operation, leaving out keys that did not grow. */
function recordPerOp(before: Record<string, number>, after: Record<string, number>, operations: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const grown = value - (before[key] ?? 0);
    if (grown > 0) out[key] = perOp(grown, operations);
  }
  return Object.fromEntries(Object.entries(out).sort(([, a], [, b]) => b - a));
}

const optionalPerOp = (before: number | undefined, after: number | undefined, operations: number) =>
  before === undefined || after === undefined ? undefined : perOp(after - before, operations);

export function workPerOp(before: WorkCounts, after: WorkCounts, operations: number): WorkPerOp {
  const total = (record: Record<string, number>) => Object.values(record).reduce((sum, value) => sum + value, 0);
  const grown = (a: Record<string, number>, b: Record<string, number>) => perOp(total(b) - total(a), operations);
  const events =
    before.eventsHandled && after.eventsHandled
      ? {
          source: 'mart_events_handled_total' as const,
          perOp: grown(before.eventsHandled, after.eventsHandled),
          by: recordPerOp(before.eventsHandled, after.eventsHandled, operations),
        }
      : before.outboxPublished !== undefined && after.outboxPublished !== undefined
        ? { source: 'mart_outbox_published_total' as const, perOp: perOp(after.outboxPublished - before.outboxPublished, operations) }
        : undefined;
  const rowsWritten = (counts: WorkCounts) =>
    Object.fromEntries(Object.entries(counts.rows ?? {}).map(([table, r]) => [table, r.inserted + r.updated + r.deleted]));
  return {
    operations,
    commands: grown(before.commands, after.commands),
    commandsBy: recordPerOp(before.commands, after.commands, operations),
    queries: optionalPerOp(before.queries, after.queries, operations),
    transactions: optionalPerOp(before.transactions, after.transactions, operations),
    xids: optionalPerOp(before.xids, after.xids, operations),
    events,
    http: grown(before.http, after.http),
    httpBy: recordPerOp(before.http, after.http, operations),
    kafkaMessages: grown(before.kafka, after.kafka),
    kafkaBy: recordPerOp(before.kafka, after.kafka, operations),
    ...(before.rows && after.rows
      ? {
          rowsWritten: grown(rowsWritten(before), rowsWritten(after)),
          rowsBy: recordPerOp(rowsWritten(before), rowsWritten(after), operations),
        }
      : {}),
  };
}

const figure = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? 'n/a' : String(value));
const breakdown = (record: Record<string, number> | undefined, top = 8) =>
  Object.entries(record ?? {})
    .slice(0, top)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');

/** A few lines that say what one operation cost in commands, SQL, transactions, events and requests. */
export function formatWork(label: string, work: WorkPerOp, unit = 'operation'): string {
  const events = work.events ? `${work.events.perOp} (${work.events.source})` : 'n/a';
  return [
    `${label}, per ${unit} (${work.operations} ${unit}s):`,
    `  db commands      ${work.commands}  (${breakdown(work.commandsBy)})`,
    `  SQL statements   ${work.queries === undefined ? 'n/a (db-service has no mart_db_queries_total)' : work.queries}`,
    `  transactions     ${figure(work.transactions)} (pg_stat_database commits + rollbacks)  xids ${figure(work.xids)} (write transactions)`,
    `  event deliveries ${events}${work.events?.by ? `  (${breakdown(work.events.by)})` : ''}`,
    `  HTTP requests    ${work.http}  (${breakdown(work.httpBy)})`,
    `  Kafka messages   ${work.kafkaMessages}  (${breakdown(work.kafkaBy, 12)})`,
    ...(work.rowsWritten === undefined ? [] : [`  rows written     ${work.rowsWritten}  (${breakdown(work.rowsBy)})`]),
  ].join('\n');
}
