/**
 * Mart's local stack without Docker: a Kafka broker (tools/kafka.ts), the machine's PostgreSQL,
 * and every service as a Node process running its bundle, `<name>/dist/main.js` (tools/build.ts).
 * A stack first rebuilds the bundles that are older than their sources, so what runs is what is
 * in `src/`, whoever starts it (npm start, the tests, the bench).
 *
 *   tsx tools/stack.ts run    builds what changed (npm run build), then runs in the foreground,
 *                             output prefixed per service; Ctrl-C stops it all
 *   tsx tools/stack.ts up     the same, detached; returns once every service is ready
 *   tsx tools/stack.ts down   stops what `up` (or an interrupted `run`) left running
 *
 * `startStack()` is the same as a library, for the test runner (tools/test.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

import pg from 'pg';

import { build, bundleServices } from './build.ts';
import { startKafka, stopKafka, type KafkaBroker } from './kafka.ts';
import {
  assertPortFree,
  commandLineOf,
  isRunning,
  logTail,
  once,
  readIfExists,
  residentKib,
  seconds,
  spawnInOwnGroup,
  stopOnExit,
  stopProcess,
} from './process.ts';
import { REPO_ROOT, serviceDefinition, serviceEntry, servicesWithSource, type ServiceName } from './services.ts';

const READY_TIMEOUT_MS = 60_000;
const SERVICE_STOP_GRACE_MS = 10_000;
/**
 * Node flags of every service process; the Dockerfile's CMD uses the same (a test checks).
 * A 2 MB semi-space instead of V8's 16 MB: about 18 MB less RSS per idle service with no
 * measurable CPU per request; 1 MB saved 2 MB more but cost about a fifth more CPU per request.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

export interface StackOptions {
  /** An external broker, or where to start one. */
  kafka: { brokers: string } | { start: { dataDir: string; port?: number; controllerPort?: number } };
  /** Given to db-service only: it is the one database owner. */
  databaseUrl: string;
  /** Where the JWT key pair lives; generated on first use. */
  keysDir: string;
  /** `<name>.log` per service, and `kafka.log`. */
  logDir: string;
  /** Defaults to every service that has a `src/main.ts`. */
  services?: readonly ServiceName[];
  /** Defaults to the ports in tools/services.ts. */
  ports?: Partial<Record<ServiceName, number>>;
  /** Extra variables for every service; the stack's own (PORT, KAFKA_BROKERS, ...) still win. */
  env?: NodeJS.ProcessEnv;
  /** Records the pids, so `down` or the next start can find what is running. */
  stateFile?: string;
  /** Leave everything running when this process exits. */
  detached?: boolean;
  /** Also stream each service's output to the terminal with a `[name]` prefix. */
  echo?: boolean;
  /** The checkout whose `<name>/dist/main.js` files are started. */
  rootDir?: string;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RunningService {
  name: ServiceName;
  pid: number;
  url: string;
  logFile: string;
}

export interface Stack {
  urls: Partial<Record<ServiceName, string>>;
  brokers: string;
  services: RunningService[];
  /** Null when the broker is external. */
  kafkaPid: number | null;
  keys: JwtKeyFiles;
  stop: () => Promise<void>;
  /** Starts one more instance of a service at `port`, with an INSTANCE_ID of its own (scale-out). */
  addInstance: (name: ServiceName, port: number) => Promise<RunningService>;
  /** For fault tests: sends `signal` to one service and waits until it is gone. */
  killService: (name: ServiceName, signal: NodeJS.Signals) => Promise<void>;
  /** Starts a killed service again with the same port and environment; resolves once it is ready. */
  relaunchService: (name: ServiceName) => Promise<RunningService>;
}

export interface JwtKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
}

/** What `down` needs to find a stack again; written to `stateFile` as processes start. */
interface StackState {
  kafkaDataDir: string | null;
  services: { name: ServiceName; pid: number; entry: string }[];
}

interface LaunchedService extends RunningService {
  child: ChildProcess;
  releaseOnExit: () => void;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const rootDir = options.rootDir ?? REPO_ROOT;
  const log = options.log ?? console.log;
  const names = options.services ?? servicesWithSource(rootDir);
  const portOf = (name: ServiceName) => options.ports?.[name] ?? serviceDefinition(name).port;

  if (options.stateFile) await refuseIfStackRunning(options.stateFile);
  for (const name of names) await assertPortFree(portOf(name), name);
  await fsp.mkdir(options.logDir, { recursive: true });
  await bundleServices(rootDir, names, { log });
  const keys = await ensureJwtKeys(options.keysDir);
  const kafka = await provideKafka(options, log);

  const launched: LaunchedService[] = [];
  // Services launch in parallel; chaining the writes keeps them whole and in order.
  let stateWrites = Promise.resolve();
  const recordState = () => {
    if (options.stateFile) {
      const stateFile = options.stateFile;
      stateWrites = stateWrites.then(() => writeState(stateFile, kafka.dataDir, launched, rootDir));
    }
    return stateWrites;
  };
  let stopping = false;
  const stop = once(async () => {
    stopping = true;
    await Promise.all(launched.map((service) => stopProcess(service.pid, SERVICE_STOP_GRACE_MS)));
    await kafka.broker?.stop();
    if (options.stateFile) await fsp.rm(options.stateFile, { force: true });
  });

  const launchAndWait = async (name: ServiceName, port = portOf(name), instanceEnv: NodeJS.ProcessEnv = {}) => {
    const env = serviceEnv(name, {
      port,
      brokers: kafka.brokers,
      databaseUrl: options.databaseUrl,
      keys,
      extra: { ...options.env, ...instanceEnv },
    });
    const logFile = path.join(options.logDir, port === portOf(name) ? `${name}.log` : `${name}-${port}.log`);
    const service = launchService(name, { rootDir, port, env, logFile, echo: !!options.echo && !options.detached });
    launched.push(service);
    service.child.once('exit', (code, signal) => {
      if (!stopping) log(`${name} exited (${code ?? signal}); see ${logFile}`);
    });
    await recordState();
    await waitUntilReady(service, options.readyTimeoutMs ?? READY_TIMEOUT_MS);
    return service;
  };

  try {
    await recordState();
    // All at once: each service retries db-service until it answers, and loading eleven processes'
    // modules is what takes longest, so it overlaps db-service's own start (1-1.5 s sooner ready).
    await Promise.all(names.map((name) => launchAndWait(name)));
  } catch (error) {
    await stop();
    throw error;
  }

  if (options.detached) launched.forEach(letOutliveUs);
  const current = (name: ServiceName) => {
    const service = launched.find((candidate) => candidate.name === name);
    if (!service) throw new Error(`${name} is not part of this stack`);
    return service;
  };
  return {
    urls: Object.fromEntries(launched.map((service) => [service.name, service.url])),
    brokers: kafka.brokers,
    services: launched.map(({ name, pid, url, logFile }) => ({ name, pid, url, logFile })),
    kafkaPid: kafka.broker?.pid ?? null,
    keys,
    stop,
    addInstance: async (name, port) => {
      await assertPortFree(port, name);
      const { pid, url, logFile } = await launchAndWait(name, port, { INSTANCE_ID: `${name}-${port}` });
      return { name, pid, url, logFile };
    },
    killService: async (name, signal) => {
      const service = current(name);
      service.child.kill(signal);
      await stopProcess(service.pid, SERVICE_STOP_GRACE_MS);
    },
    relaunchService: async (name) => {
      launched.splice(launched.indexOf(current(name)), 1);
      await launchAndWait(name);
      const { pid, url, logFile } = current(name);
      return { name, pid, url, logFile };
    },
  };
}

/** The external broker, or one started for the stack (its data dir is where `down` finds it). */
async function provideKafka(
  options: StackOptions,
  log: (line: string) => void,
): Promise<{ brokers: string; broker: KafkaBroker | null; dataDir: string | null }> {
  if ('brokers' in options.kafka) return { brokers: options.kafka.brokers, broker: null, dataDir: null };
  const logFile = path.join(options.logDir, 'kafka.log');
  const broker = await startKafka({ ...options.kafka.start, logFile, detached: !!options.detached, log });
  log(`Kafka ready at ${broker.brokers} (log ${logFile})`);
  return { brokers: broker.brokers, broker, dataDir: options.kafka.start.dataDir };
}

function letOutliveUs(service: LaunchedService): void {
  service.releaseOnExit();
  service.child.unref();
}

async function writeState(stateFile: string, kafkaDataDir: string | null, services: LaunchedService[], rootDir: string): Promise<void> {
  const state: StackState = {
    kafkaDataDir,
    services: services.map(({ name, pid }) => ({ name, pid, entry: serviceEntry(name, rootDir) })),
  };
  await fsp.mkdir(path.dirname(stateFile), { recursive: true });
  // Written aside and renamed, so a reader (stack:down) never sees half a file.
  const partial = `${stateFile}.${process.pid}.tmp`;
  await fsp.writeFile(partial, `${JSON.stringify(state, null, 2)}\n`);
  await fsp.rename(partial, stateFile);
}

/**
 * The environment a service starts with: ours, plus the stack's settings. DATABASE_URL goes to
 * db-service only, and the JWT private key to auth-service only, even when set in our own env.
 */
export function serviceEnv(
  name: ServiceName,
  settings: { port: number; brokers: string; databaseUrl: string; keys: JwtKeyFiles; extra?: NodeJS.ProcessEnv },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    ...settings.extra,
    PORT: String(settings.port),
    KAFKA_BROKERS: settings.brokers,
    AUTH_PUBLIC_KEY_FILE: settings.keys.publicKeyFile,
  };
  delete env.DATABASE_URL;
  delete env.AUTH_PRIVATE_KEY_FILE;
  if (name === 'db-service') env.DATABASE_URL = settings.databaseUrl;
  if (name === 'auth-service') env.AUTH_PRIVATE_KEY_FILE = settings.keys.privateKeyFile;
  return env;
}

function launchService(
  name: ServiceName,
  settings: { rootDir: string; port: number; env: NodeJS.ProcessEnv; logFile: string; echo: boolean },
): LaunchedService {
  const entry = serviceEntry(name, settings.rootDir);
  const child = spawnInOwnGroup(process.execPath, [...SERVICE_NODE_FLAGS, entry], settings.logFile, {
    cwd: settings.rootDir,
    env: settings.env,
    pipeOutput: settings.echo,
  });
  const releaseOnExit = stopOnExit(child);
  if (settings.echo) echoWithPrefix(child, name);
  return {
    name,
    pid: child.pid!,
    url: `http://127.0.0.1:${settings.port}`,
    logFile: settings.logFile,
    child,
    releaseOnExit,
  };
}

/** Like docker compose: each line on the terminal says which service wrote it. */
function echoWithPrefix(child: ChildProcess, name: ServiceName): void {
  const prefix = `[${name}]`.padEnd('[notification-service]'.length);
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) readline.createInterface({ input: stream }).on('line', (line) => console.log(`${prefix} ${line}`));
  }
}

/** Polls /ready every 200 ms: each answer costs the starting service CPU, which is what a start is short of. */
async function waitUntilReady(service: LaunchedService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { exitCode, signalCode } = service.child;
    if (exitCode !== null || signalCode !== null) {
      throw new Error(`${service.name} exited (${exitCode ?? signalCode}) before it was ready.\n${await logTail(service.logFile)}`);
    }
    if (await isReady(service.url)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${service.name} was not ready after ${seconds(timeoutMs)} (GET ${service.url}/ready).\n` + (await logTail(service.logFile)),
      );
    }
    await sleep(200);
  }
}

/** One look at GET <url>/ready: true on a 200 within 2 s. */
export async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false; // not listening yet, or too slow to answer: ask again
  }
}

/** Stops what a state file lists (services, then the broker); true when anything was running. */
export async function stopStack(stateFile: string): Promise<boolean> {
  const state = await readState(stateFile);
  if (!state) return false;
  const services = liveServices(state);
  await Promise.all(services.map((service) => stopProcess(service.pid, SERVICE_STOP_GRACE_MS)));
  const brokerStopped = state.kafkaDataDir ? await stopKafka(state.kafkaDataDir) : false;
  await fsp.rm(stateFile, { force: true });
  return services.length > 0 || brokerStopped;
}

async function refuseIfStackRunning(stateFile: string): Promise<void> {
  const state = await readState(stateFile);
  if (!state) return;
  const pids = liveServices(state).map((service) => service.pid);
  if (pids.length > 0) {
    throw new Error(
      `A Mart stack recorded in ${stateFile} is still running (pids ${pids.join(', ')}). ` + `Stop it first with "npm run stack:down".`,
    );
  }
}

/** Only processes still running the recorded entry point: a pid may have been reused since. */
function liveServices(state: StackState): StackState['services'] {
  return state.services.filter((service) => isRunning(service.pid) && commandLineOf(service.pid).includes(service.entry));
}

async function readState(stateFile: string): Promise<StackState | null> {
  const text = await readIfExists(stateFile);
  return text === null ? null : (JSON.parse(text) as StackState);
}

/** A 2048-bit RSA pair for signing (auth-service) and verifying (everyone) access tokens. */
export async function ensureJwtKeys(keysDir: string): Promise<JwtKeyFiles> {
  const keys = {
    privateKeyFile: path.join(keysDir, 'jwt-private.pem'),
    publicKeyFile: path.join(keysDir, 'jwt-public.pem'),
  };
  if (fs.existsSync(keys.privateKeyFile) && fs.existsSync(keys.publicKeyFile)) return keys;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await fsp.mkdir(keysDir, { recursive: true, mode: 0o700 });
  await fsp.writeFile(keys.privateKeyFile, privateKey, { mode: 0o600 });
  await fsp.writeFile(keys.publicKeyFile, publicKey);
  return keys;
}

/** Where Debian's and Ubuntu's PostgreSQL packages put the server's socket. */
const POSTGRES_SOCKET_DIR = '/var/run/postgresql';

/**
 * The URL of a database on this machine's PostgreSQL, as the postgres user. Over the Unix socket
 * where the server has one: a statement then costs about 13 % less CPU in db-service and 20 % less
 * in its PostgreSQL backend than over loopback TCP (most of pg's time was the kernel's writev).
 */
export function localDatabaseUrl(database: string): string {
  return fs.existsSync(path.join(POSTGRES_SOCKET_DIR, '.s.PGSQL.5432'))
    ? `postgresql://postgres@localhost/${database}?host=${POSTGRES_SOCKET_DIR}`
    : `postgresql://postgres@127.0.0.1:5432/${database}`;
}

/** Creates the database named in `databaseUrl` if missing; `fresh` drops it first. */
export async function ensureDatabase(databaseUrl: string, options: { fresh?: boolean } = {}): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name) throw new Error(`The database URL ${databaseUrl} names no database.`);
  // A database cannot be created or dropped while connected to it.
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Cannot connect to PostgreSQL at ${url.host}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const quotedName = `"${name.replaceAll('"', '""')}"`;
    if (options.fresh) await client.query(`DROP DATABASE IF EXISTS ${quotedName} WITH (FORCE)`);
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount === 0) await client.query(`CREATE DATABASE ${quotedName}`);
  } finally {
    await client.end();
  }
}

/** The table printed once the stack is ready: where each service is, and its memory. */
export function describeStack(stack: Stack, elapsedMs: number): string {
  const rows: [string, string, number | null][] = stack.services.map((service) => {
    const page = serviceDefinition(service.name).pathPrefix === null ? '/ready' : '/docs';
    return [service.name, `${service.url}${page}`, residentKib(service.pid)];
  });
  rows.push(stack.kafkaPid === null ? ['kafka (external)', stack.brokers, null] : ['kafka', stack.brokers, residentKib(stack.kafkaPid)]);
  rows.push(['total', '', rows.reduce((sum, [, , kib]) => sum + (kib ?? 0), 0)]);

  const nameWidth = Math.max(...rows.map(([name]) => name.length));
  const whereWidth = Math.max(...rows.map(([, where]) => where.length));
  const lines = rows.map(([name, where, kib]) => `  ${name.padEnd(nameWidth)}  ${where.padEnd(whereWidth)}  ${mebibytes(kib).padStart(8)}`);
  const count = stack.services.length;
  return [...lines, `${count} service${count === 1 ? '' : 's'} ready in ${seconds(elapsedMs)}`].join('\n');
}

function mebibytes(kib: number | null): string {
  return kib === null ? '' : `${(kib / 1024).toFixed(0)} MiB`;
}

const MART_DIR = path.join(REPO_ROOT, '.mart');
const STATE_FILE = path.join(MART_DIR, 'stack.json');

async function startDevStack(detached: boolean): Promise<Stack> {
  const startedAt = Date.now();
  const databaseUrl = process.env.DATABASE_URL ?? localDatabaseUrl('mart');
  await build();
  if (!process.env.DATABASE_URL) await ensureDatabase(databaseUrl);
  const names = servicesWithSource();
  if (names.length === 0) console.log('No service is built yet (none has <name>/src/main.ts): starting Kafka only.');
  const stack = await startStack({
    kafka: process.env.KAFKA_BROKERS ? { brokers: process.env.KAFKA_BROKERS } : { start: { dataDir: path.join(MART_DIR, 'kafka') } },
    databaseUrl,
    keysDir: path.join(MART_DIR, 'keys'),
    logDir: path.join(MART_DIR, 'logs'),
    stateFile: STATE_FILE,
    services: names,
    detached,
    echo: !detached,
  });
  console.log(describeStack(stack, Date.now() - startedAt));
  console.log(`Logs in ${path.join(MART_DIR, 'logs')}`);
  return stack;
}

async function run(): Promise<void> {
  // Until the stack is up, a signal just exits: the exit hook then stops whatever had started.
  const abortStart = () => process.exit(130);
  process.once('SIGINT', abortStart).once('SIGTERM', abortStart);
  const stack = await startDevStack(false);
  process.off('SIGINT', abortStart).off('SIGTERM', abortStart);

  const received = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve).once('SIGTERM', resolve);
  });
  console.log(`${received}: stopping the services, then Kafka (again to force) ...`);
  process.once('SIGINT', () => process.exit(130)).once('SIGTERM', () => process.exit(143));
  await stack.stop();
  process.exit(0);
}

async function up(): Promise<void> {
  await startDevStack(true);
  console.log('Stop it with "npm run stack:down".');
  // The services were unref'd; exit now rather than wait on idle HTTP keep-alive sockets.
  process.exit(0);
}

async function main(command: string): Promise<void> {
  switch (command) {
    case 'run':
      return run();
    case 'up':
      return up();
    case 'down':
      console.log((await stopStack(STATE_FILE)) ? 'Mart stack stopped' : 'No Mart stack was running');
      return;
    default:
      console.error('Usage: tsx tools/stack.ts run|up|down');
      process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv[2] ?? '').catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
