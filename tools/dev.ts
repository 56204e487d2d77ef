/**
 * `npm run dev`: the local stack with watch-mode restarts. Like `npm start`, but each service runs
 * its TypeScript source under `tsx watch` instead of its built bundle, so saving a file restarts
 * only the services that import it (a change in common/ restarts them all), with no build step in
 * between. Kafka, the database and the JWT keys come from tools/stack.ts as for `npm start`; only
 * the way services are launched differs. Ctrl-C stops everything.
 *
 * It starts the stack with no services (startStack then provides the broker and keys only) and
 * launches the services itself with the same environment (serviceEnv). If tools/stack.ts ever
 * takes a `watch` option for its launcher, this file can shrink to a call with `watch: true`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { REPO_ROOT, serviceDefinition, serviceSource, servicesWithSource, type ServiceName } from './services.ts';
import { ensureDatabase, isReady, localDatabaseUrl, serviceEnv, startStack } from './stack.ts';

const MART_DIR = path.join(REPO_ROOT, '.mart');
const TSX_CLI = fileURLToPath(import.meta.resolve('tsx/cli'));
const READY_TIMEOUT_MS = 60_000;

const children: ChildProcess[] = [];

function launch(name: ServiceName, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [TSX_CLI, 'watch', '--clear-screen=false', serviceSource(name)], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}]`.padEnd('[notification-service]'.length);
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => console.log(`${prefix} ${line}`));
  }
  children.push(child);
  return child;
}

/** Ready once /ready answers 200; tsx watch keeps running when the service crashes, so only time out. */
async function waitUntilReady(name: ServiceName, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await isReady(url)) return;
    await sleep(250);
  }
  console.log(`${name} is not ready after ${READY_TIMEOUT_MS / 1000} s; fix it and save, tsx watch restarts it`);
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? localDatabaseUrl('mart');
  if (!process.env.DATABASE_URL) await ensureDatabase(databaseUrl);
  const stack = await startStack({
    kafka: process.env.KAFKA_BROKERS ? { brokers: process.env.KAFKA_BROKERS } : { start: { dataDir: path.join(MART_DIR, 'kafka') } },
    databaseUrl,
    keysDir: path.join(MART_DIR, 'keys'),
    logDir: path.join(MART_DIR, 'logs'),
    services: [],
  });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`${signal}: stopping the services, then Kafka (again to force) ...`);
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);

  const start = async (name: ServiceName) => {
    const { port } = serviceDefinition(name);
    launch(name, serviceEnv(name, { port, brokers: stack.brokers, databaseUrl, keys: stack.keys }));
    await waitUntilReady(name, `http://127.0.0.1:${port}`);
  };
  // All at once, as in tools/stack.ts: each service retries db-service until it answers.
  await Promise.all(servicesWithSource().map(start));
  console.log(`Mart is up in watch mode (Kafka at ${stack.brokers}); edit a file to restart what imports it, Ctrl-C to stop.`);
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  for (const child of children) child.kill('SIGTERM');
  process.exit(1);
});
