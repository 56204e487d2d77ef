// prom-client's default metrics one by one (it has no "exports" map, so they are importable):
// Mart registers all of them but the event-loop-lag histogram (see metrics.ts).
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';
  const registerMetric: (registry: Registry, config: Record<string, unknown>) => void;
  export default registerMetric;
}
