/**
 * `npm test`: the unit, integration and end-to-end suites, against a real Kafka broker and
 * PostgreSQL. Unless KAFKA_BROKERS / DATABASE_URL say otherwise it brings its own broker (ports
 * 19092/19093), a fresh `mart_test` database and, for e2e, a stack on the dev ports + 10000, so
 * it runs beside a dev stack. Everything it starts is stopped again, whatever happens.
 *
 *   npm test                                   every suite
 *   npm test -- e2e                            only the named suites (unit, integration, e2e)
 *   npm test -- e2e --spec 'tools/test/abuse*'  only these files of them: quick turns while working
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { startKafka, stopKafka } from './kafka.ts';
import { commandLineOf, isRunning, once, readIfExists, seconds } from './process.ts';
import { REPO_ROOT, TEST_PORT_OFFSET, portsAt, servicesWithSource, serviceUrlVariable } from './services.ts';
import { ensureDatabase, localDatabaseUrl, startStack, stopStack, type Stack } from './stack.ts';

/** A fixed place, so the next run finds and stops what a killed run left behind. */
const TEST_DIR = path.join(os.tmpdir(), 'mart-test');
/** Runs on one machine share the ports, so they take turns; this file names the run in progress. */
const LOCK_FILE = path.join(os.tmpdir(), 'mart-test.lock');
const LOCK_WAIT_MS = 15 * 60_000;
const KAFKA_DATA_DIR = path.join(TEST_DIR, 'kafka');
const STACK_STATE_FILE = path.join(TEST_DIR, 'stack.json');
/** Inside the checkout (and .gitignored) so that the logs of a failed run can still be read. */
const LOG_DIR = path.join(REPO_ROOT, '.mart', 'test-logs');
const TEST_KAFKA_PORT = 19092;
const TEST_KAFKA_CONTROLLER_PORT = 19093;
/** Settings of the e2e stack that differ from a developer's stack. */
const TEST_STACK_ENV: Record<string, string> = { NODE_ENV: 'test' };

interface Suite {
  name: string;
  config: string;
  /** Runs against the services over HTTP, so the stack must be up. */
  needsStack: boolean;
}

const SUITES: Suite[] = [
  { name: 'unit', config: '.mocharc.unit.json', needsStack: false },
  { name: 'integration', config: '.mocharc.integration.json', needsStack: false },
  { name: 'e2e', config: '.mocharc.e2e.json', needsStack: true },
  { name: 'chaos', config: '.mocharc.chaos.json', needsStack: false },
];

export interface MochaCounts {
  passed: number;
  failed: number;
  pending: number;
}

interface SuiteResult extends MochaCounts {
  suite: string;
  exitCode: number | null;
}

/** Cleanup steps, run last-in first-out exactly once: on success, failure or a signal. */
const cleanups: (() => Promise<unknown>)[] = [];
const cleanUp = once(async () => {
  for (const step of cleanups.reverse()) {
    await step().catch((error: unknown) => console.error(`Cleanup step failed: ${String(error)}`));
  }
});
let runningMocha: ChildProcess | null = null;
let interrupted = false;

/** `[suite ...] [--spec glob ...]` from the command line; nothing means every suite, every file. */
export function selectSuites(args: string[]): { suites: Suite[]; spec: string[] } {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { spec: { type: 'string', multiple: true } } });
  const unknown = positionals.filter((name) => !SUITES.some((suite) => suite.name === name));
  if (unknown.length > 0) throw new Error(`Unknown suite ${unknown.join(', ')}: choose from ${SUITES.map((s) => s.name).join(', ')}.`);
  const suites = positionals.length === 0 ? SUITES : SUITES.filter((suite) => positionals.includes(suite.name));
  return { suites, spec: values.spec ?? [] };
}

async function main(): Promise<number> {
  const selection = selectSuites(process.argv.slice(2));
  process.once('SIGINT', () => void interrupt(130)).once('SIGTERM', () => void interrupt(143));
  await takeTurn();
  await stopLeftoversOfAnEarlierRun();
  await fsp.rm(TEST_DIR, { recursive: true, force: true });
  await fsp.mkdir(TEST_DIR, { recursive: true });
  cleanups.push(() => fsp.rm(TEST_DIR, { recursive: true, force: true }));

  const [brokers, databaseUrl] = await Promise.all([testBroker(), testDatabase()]);
  const results: SuiteResult[] = [];
  for (const suite of selection.suites) {
    const result = await runSuite(await narrowed(suite, selection.spec), brokers, databaseUrl);
    if (interrupted) break;
    if (result) results.push(result);
  }
  printSummary(results);
  return results.some(suiteFailed) ? 1 : 0;
}

async function interrupt(exitCode: number): Promise<void> {
  interrupted = true;
  console.error('\nInterrupted: stopping everything the tests started ...');
  runningMocha?.kill('SIGTERM');
  await cleanUp();
  process.exit(exitCode);
}

/**
 * Waits while another test run holds the lock, then takes it. A lock whose run has died is taken
 * over: that run's broker and stack are then leftovers, which the caller stops.
 */
async function takeTurn(): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  while (!(await tryLock())) {
    const holder = Number.parseInt((await readIfExists(LOCK_FILE)) ?? '', 10);
    if (!isRunning(holder) || !commandLineOf(holder).includes('tools/test.ts')) {
      await fsp.rm(LOCK_FILE, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Test run ${holder} still holds ${LOCK_FILE} after 15 minutes.`);
    if (!announced) console.log(`Waiting for another test run (pid ${holder}) to finish ...`);
    announced = true;
    await sleep(1_000);
  }
  cleanups.push(async () => {
    if ((await readIfExists(LOCK_FILE))?.trim() === String(process.pid)) await fsp.rm(LOCK_FILE, { force: true });
  });
}

/** Links a complete file into place, so nobody ever reads a lock without its pid in it. */
async function tryLock(): Promise<boolean> {
  const ownFile = `${LOCK_FILE}.${process.pid}`;
  await fsp.writeFile(ownFile, `${process.pid}\n`);
  try {
    await fsp.link(ownFile, LOCK_FILE);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await fsp.rm(ownFile, { force: true });
  }
}

async function stopLeftoversOfAnEarlierRun(): Promise<void> {
  if (await stopStack(STACK_STATE_FILE)) console.log('Stopped a test stack left running by an earlier run.');
  if (await stopKafka(KAFKA_DATA_DIR)) console.log('Stopped a test broker left running by an earlier run.');
}

async function testBroker(): Promise<string> {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const startedAt = Date.now();
  const broker = await startKafka({
    dataDir: KAFKA_DATA_DIR,
    port: TEST_KAFKA_PORT,
    controllerPort: TEST_KAFKA_CONTROLLER_PORT,
    logFile: path.join(LOG_DIR, 'kafka.log'),
  });
  cleanups.push(broker.stop);
  console.log(`Test broker ready at ${broker.brokers} in ${seconds(Date.now() - startedAt)}`);
  return broker.brokers;
}

async function testDatabase(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const url = localDatabaseUrl('mart_test');
  await ensureDatabase(url, { fresh: true });
  return url;
}

/**
 * The suite limited to the files matching `spec` (globs or paths). Mocha adds command-line specs to
 * its config's, so a limited suite runs from a copy of the config with only these specs.
 */
async function narrowed(suite: Suite, spec: string[]): Promise<Suite> {
  if (spec.length === 0) return suite;
  const config = JSON.parse(await fsp.readFile(path.join(REPO_ROOT, suite.config), 'utf8')) as { spec?: string | string[] };
  const wanted = (await findSpecFiles([config.spec ?? []].flat())).filter((file) => spec.some((glob) => globToRegExp(glob).test(file)));
  const narrowedConfig = path.join(TEST_DIR, `${suite.name}.mocharc.json`);
  await fsp.writeFile(narrowedConfig, JSON.stringify({ ...config, spec: wanted }));
  return { ...suite, config: narrowedConfig };
}

/** Null when the suite has no test files yet: mocha would fail on that, and it is no failure. */
async function runSuite(suite: Suite, brokers: string, databaseUrl: string): Promise<SuiteResult | null> {
  const { spec } = await readMochaConfig(suite.config);
  if ((await findSpecFiles(spec)).length === 0) {
    console.log(`\nNo ${suite.name} tests (${spec.join(', ')}): skipped.`);
    return null;
  }
  const env = { ...process.env, KAFKA_BROKERS: brokers, DATABASE_URL: databaseUrl, MART_TEST: '1' };
  if (!suite.needsStack) return runMocha(suite, env);
  let started: { stack: Stack; fakes: Fake[] };
  try {
    const fakes = await startFakes();
    started = { stack: await startTestStack(brokers, databaseUrl, fakes), fakes };
  } catch (error) {
    console.error(`\nThe ${suite.name} stack did not start: ${error instanceof Error ? error.message : String(error)}`);
    return { suite: suite.name, passed: 0, failed: 1, pending: 0, exitCode: null };
  }
  return runMocha(suite, { ...env, ...e2eEnv(started.stack, started.fakes) });
}

/** A local server playing a third-party provider (Stripe, Gmail) for the e2e stack. */
interface Fake {
  name: string;
  url: string;
  env: Record<string, string>;
}

const FAKES_DIR = path.join(REPO_ROOT, 'tools', 'fakes');

/**
 * Starts every `tools/fakes/<name>.fake.ts` (each exports `startFake()`), so the services'
 * real provider SDKs can be pointed at them and the tests can read what they received.
 */
async function startFakes(): Promise<Fake[]> {
  const files = (await fsp.readdir(FAKES_DIR).catch(() => [] as string[])).filter((file) => file.endsWith('.fake.ts')).sort();
  const fakes: Fake[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(path.join(FAKES_DIR, file)).href)) as {
      startFake(): Promise<{ url: string; env: Record<string, string>; stop(): Promise<void> }>;
    };
    const fake = await module.startFake();
    cleanups.push(fake.stop);
    const name = file.replace(/\.fake\.ts$/, '');
    fakes.push({ name, url: fake.url, env: fake.env });
    console.log(`Fake ${name} listening at ${fake.url}`);
  }
  return fakes;
}

async function startTestStack(brokers: string, databaseUrl: string, fakes: Fake[]): Promise<Stack> {
  const startedAt = Date.now();
  const services = servicesWithSource();
  console.log(`\nStarting the test stack (${services.join(', ') || 'no service is built yet'}) ...`);
  const stack = await startStack({
    kafka: { brokers },
    databaseUrl,
    keysDir: path.join(TEST_DIR, 'keys'),
    logDir: LOG_DIR,
    services,
    ports: portsAt(TEST_PORT_OFFSET),
    stateFile: STACK_STATE_FILE,
    env: { ...TEST_STACK_ENV, ...Object.assign({}, ...fakes.map((fake) => fake.env)) },
  });
  cleanups.push(stack.stop);
  console.log(`Test stack ready in ${seconds(Date.now() - startedAt)} (logs in ${LOG_DIR})`);
  return stack;
}

/** What e2e tests read: each service's base URL, and the JWT keys to mint their own tokens. */
function e2eEnv(stack: Stack, fakes: Fake[]): NodeJS.ProcessEnv {
  const urls = stack.services.map(({ name, url }) => [serviceUrlVariable(name), url] as const);
  const fakeUrls = fakes.map(({ name, url }) => [`MART_URL_FAKE_${name.toUpperCase().replace(/-/g, '_')}`, url] as const);
  return {
    ...Object.fromEntries(urls),
    ...Object.fromEntries(fakeUrls),
    AUTH_PRIVATE_KEY_FILE: stack.keys.privateKeyFile,
    AUTH_PUBLIC_KEY_FILE: stack.keys.publicKeyFile,
  };
}

/** Mocha's spec reporter goes to the terminal as it comes, and is read for the totals. */
async function runMocha(suite: Suite, env: NodeJS.ProcessEnv): Promise<SuiteResult> {
  console.log(`\n=== ${suite.name} tests ===`);
  const colour = process.stdout.isTTY ? ['--color'] : [];
  const child = spawn('npx', ['mocha', '--config', suite.config, ...colour], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  runningMocha = child;
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    output += chunk.toString('utf8');
  });
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', resolve));
  runningMocha = null;
  const counts = parseMochaCounts(output);
  // A suite that died before reporting (a syntax error, say) must still count as a failure.
  if (exitCode !== 0 && counts.failed === 0) counts.failed = 1;
  return { suite: suite.name, exitCode, ...counts };
}

export function parseMochaCounts(output: string): MochaCounts {
  // eslint-disable-next-line no-control-regex -- colour codes, when mocha writes to a terminal
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
  const count = (word: string) => Number(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'm').exec(plain)?.[1] ?? 0);
  return { passed: count('passing'), failed: count('failing'), pending: count('pending') };
}

function suiteFailed(result: SuiteResult): boolean {
  return result.exitCode !== 0 || result.failed > 0;
}

function printSummary(results: SuiteResult[]): void {
  console.log('\n=== summary ===');
  for (const result of results) {
    const status = suiteFailed(result) ? 'FAILED' : 'ok';
    console.log(`  ${result.suite.padEnd(12)} ${result.passed} passing, ${result.failed} failing, ${result.pending} pending: ${status}`);
  }
  const total = (key: keyof MochaCounts) => results.reduce((sum, result) => sum + result[key], 0);
  console.log(`${total('passed')} passed, ${total('failed')} failed`);
}

async function readMochaConfig(configFile: string): Promise<{ spec: string[] }> {
  const config = JSON.parse(await fsp.readFile(path.resolve(REPO_ROOT, configFile), 'utf8')) as {
    spec?: string | string[];
  };
  return { spec: [config.spec ?? []].flat() };
}

/** The files mocha would run for these globs (relative to `rootDir`). */
export async function findSpecFiles(spec: string[], rootDir = REPO_ROOT): Promise<string[]> {
  const patterns = spec.map(globToRegExp);
  const files = await listFiles(rootDir, rootDir);
  return files.filter((file) => patterns.some((pattern) => pattern.test(file)));
}

/** Every file under `dir`, relative to `rootDir`, leaving out node_modules and hidden folders. */
async function listFiles(dir: string, rootDir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((entry) => entry.name !== 'node_modules' && !entry.name.startsWith('.'))
      .map(async (entry) => {
        const fullPath = path.join(dir, entry.name);
        if (entry.isDirectory()) return listFiles(fullPath, rootDir);
        return entry.isFile() ? [path.relative(rootDir, fullPath)] : [];
      }),
  );
  return nested.flat();
}

/** Enough of glob syntax for our specs: `**` spans folders, `*` and `?` stay within one. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (glob.startsWith('**/', i)) {
      source += '(?:[^/]+/)*';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main()
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      return 1;
    })
    .then(async (exitCode) => {
      await cleanUp();
      process.exit(exitCode);
    });
}
