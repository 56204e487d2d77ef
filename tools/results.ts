/**
 * Where the benches and the fault suite leave their figures: bench/results/<kind>-<time>.json
 * (gitignored), one file per run, for the engineer who compares runs later.
 */
import fs from 'node:fs';
import path from 'node:path';

import { REPO_ROOT } from './services.ts';

/** Writes the run's figures with the time they were saved, and says where. */
export function saveResults(kind: string, data: Record<string, unknown>): void {
  const out = path.join(REPO_ROOT, 'bench', 'results', `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), ...data }, null, 2));
  console.log(`saved ${path.relative(REPO_ROOT, out)}`);
}
