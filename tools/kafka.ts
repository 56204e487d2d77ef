/**
 * A real single-node Apache Kafka broker (KRaft, broker + controller in one JVM) for the local
 * stack and the tests, run from the jars on Maven Central: there is no Docker on our machines
 * (see shared/ENVIRONMENT.md).
 *
 *   tsx tools/kafka.ts start    start a detached broker on 127.0.0.1:9092, data in .mart/kafka
 *   tsx tools/kafka.ts stop     stop it
 *   tsx tools/kafka.ts status   is it running, and how much memory it uses
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { REPO_ROOT } from './services.ts';
import {
  spawnInOwnGroup,
  stopOnExit,
  stopProcess,
  isRunning,
  commandLineOf,
  residentKib,
  assertPortFree,
  logTail,
  runToCompletion,
  readIfExists,
  once,
  seconds,
} from './process.ts';

/** Keep in step with tools/kafka/pom.xml. */
export const KAFKA_VERSION = '3.9.1';

const POM_FILE = fileURLToPath(new URL('./kafka/pom.xml', import.meta.url));
const LOG4J_FILE = fileURLToPath(new URL('./kafka/log4j.properties', import.meta.url));
/** KRaft formats storage with a cluster id; a fixed one lets a data dir be reused across restarts. */
const CLUSTER_ID = 'TWFydExvY2FsS2Fma2EwMQ'; // base64url of the 16 bytes "MartLocalKafka01"
const READY_LINE = 'Kafka Server started';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 20_000;
/** Writing the class archive at exit takes a busy two-core machine up to about 20 s. */
const RECORDING_STOP_GRACE_MS = 60_000;

export interface KafkaOptions {
  /** Holds server.properties, the pid file and the partition data (in `data/`). */
  dataDir: string;
  port?: number;
  controllerPort?: number;
  /** Broker output; defaults to `<dataDir>/kafka.log`. Truncated at every start. */
  logFile?: string;
  /** Keep the broker running after this process exits (its pid stays in the pid file). */
  detached?: boolean;
  /**
   * While no class archive exists (see classArchiveFile), let this broker write one as it stops;
   * that stop then takes a few seconds longer. On by default; off where a stop is being timed.
   */
  recordClasses?: boolean;
  log?: (line: string) => void;
}

export interface KafkaBroker {
  pid: number;
  /** For KAFKA_BROKERS: `127.0.0.1:<port>`. */
  brokers: string;
  logFile: string;
  stop: () => Promise<void>;
}

export function kafkaCacheDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'mart', `kafka-${KAFKA_VERSION}`);
}

/**
 * Downloads the broker's jars from Maven Central once; returns the folder holding them.
 * A marker holding the pom's hash is written only after a complete download, so an interrupted
 * download, or a changed pom, is redone from scratch.
 */
export async function ensureKafkaJars(log: (line: string) => void = console.log): Promise<string> {
  const cacheDir = kafkaCacheDir();
  const libsDir = path.join(cacheDir, 'libs');
  const markerFile = path.join(cacheDir, 'complete');
  const pomHash = createHash('sha256')
    .update(await fsp.readFile(POM_FILE))
    .digest('hex');
  if ((await readIfExists(markerFile))?.trim() === pomHash) return libsDir;

  await fsp.rm(libsDir, { recursive: true, force: true });
  await fsp.mkdir(cacheDir, { recursive: true });
  log(`Downloading Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${libsDir} ...`);
  const startedAt = Date.now();
  await runToCompletion('mvn', [
    '-B',
    '-q',
    '-Dstyle.color=never',
    '-f',
    POM_FILE,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${libsDir}`,
  ]);
  await fsp.writeFile(markerFile, `${pomHash}\n`);
  log(`Kafka jars ready in ${seconds(Date.now() - startedAt)}`);
  return libsDir;
}

export function serverProperties(options: { dataDir: string; port: number; controllerPort: number }): string {
  const { dataDir, port, controllerPort } = options;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': path.join(dataDir, 'data'),
    'num.partitions': 3,
    // One broker: internal topics cannot have more replicas, and one partition starts faster.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    // The 3 s default delays every consumer group join, in every test.
    'group.initial.rebalance.delay.ms': 0,
    // kafkajs on KRaft fails to subscribe to a topic auto-create is still making: create topics explicitly.
    'auto.create.topics.enable': false,
    // The controller writes a no-op metadata record every 500 ms by default, so that followers can
    // tell a live leader; with one node there is none to tell, and it was the largest idle cost.
    'metadata.max.idle.interval.ms': 10_000,
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key}=${String(value)}`);
  return `# Written by tools/kafka.ts at every start; edits are lost.\n${lines.join('\n')}\n`;
}

export async function startKafka(options: KafkaOptions): Promise<KafkaBroker> {
  const { dataDir, port = 9092, controllerPort = 9093, detached = false, recordClasses = true, log = console.log } = options;
  const logFile = options.logFile ?? path.join(dataDir, 'kafka.log');
  const propertiesFile = path.join(dataDir, 'server.properties');

  await refuseIfAlreadyRunning(dataDir);
  await assertPortFree(port, 'Kafka');
  await assertPortFree(controllerPort, 'the Kafka controller');
  const libsDir = await ensureKafkaJars(log);

  await fsp.mkdir(dataDir, { recursive: true });
  await fsp.mkdir(path.dirname(logFile), { recursive: true });
  await fsp.writeFile(propertiesFile, serverProperties({ dataDir, port, controllerPort }));
  await formatStorage(libsDir, dataDir, propertiesFile);

  const archive = classArchiveFile();
  // Only a broker this process stops can be seen to exit cleanly, which a usable archive needs.
  const recording = !fs.existsSync(archive) && recordClasses && !detached ? `${archive}.${process.pid}.partial` : null;
  const classSharing = recording
    ? [`-XX:ArchiveClassesAtExit=${recording}`]
    : fs.existsSync(archive)
      ? [`-XX:SharedArchiveFile=${archive}`]
      : [];
  const child = spawnInOwnGroup(javaBinary(), [...jvmOptions(libsDir), ...classSharing, 'kafka.Kafka', propertiesFile], logFile);
  const releaseOnExit = stopOnExit(child);
  const pid = child.pid!;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await fsp.writeFile(pidFile(dataDir), `${pid}\n`);
  const stop = once(async () => {
    await stopProcess(pid, recording ? RECORDING_STOP_GRACE_MS : STOP_GRACE_MS);
    await fsp.rm(pidFile(dataDir), { force: true });
    if (recording) await keepClassArchive(recording, archive, await exited, log);
  });
  try {
    await waitForLogLine(child, logFile, READY_LINE, READY_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }

  if (detached) {
    releaseOnExit();
    child.unref();
  }
  return { pid, brokers: `127.0.0.1:${port}`, logFile, stop };
}

/** Stops the broker recorded in `<dataDir>/kafka.pid`, if it still runs; true when one was stopped. */
export async function stopKafka(dataDir: string): Promise<boolean> {
  const pid = await runningBrokerPid(dataDir);
  if (pid !== null) await stopProcess(pid, STOP_GRACE_MS);
  await fsp.rm(pidFile(dataDir), { force: true });
  return pid !== null;
}

/** The pid of the broker using `dataDir`, checked against its command line so a reused pid is never taken for it. */
export async function runningBrokerPid(dataDir: string): Promise<number | null> {
  const pid = Number.parseInt((await readIfExists(pidFile(dataDir))) ?? '', 10);
  if (!Number.isInteger(pid) || !isRunning(pid)) return null;
  return commandLineOf(pid).includes(path.join(dataDir, 'server.properties')) ? pid : null;
}

function pidFile(dataDir: string): string {
  return path.join(dataDir, 'kafka.pid');
}

async function refuseIfAlreadyRunning(dataDir: string): Promise<void> {
  const pid = await runningBrokerPid(dataDir);
  if (pid === null) return;
  throw new Error(
    `A Kafka broker using ${dataDir} is already running (pid ${pid}). ` + `Stop it with "npm run stack:down" or "tsx tools/kafka.ts stop".`,
  );
}

/** KRaft refuses to start on unformatted storage; formatting costs a JVM start, so only once. */
async function formatStorage(libsDir: string, dataDir: string, propertiesFile: string): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'data', 'meta.properties'))) return;
  await runToCompletion(javaBinary(), [
    ...jvmOptions(libsDir),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    CLUSTER_ID,
    '-c',
    propertiesFile,
    '--ignore-formatted',
  ]);
}

/**
 * A class-data-sharing archive of the classes a broker loads: mapping them instead of loading and
 * verifying them again cuts the broker's start CPU by a fifth (6.6 s instead of 8.5 s here).
 * It is only valid for the jars and the JVM that wrote it, so its name carries both.
 */
export function classArchiveFile(): string {
  const java = resolvedJava();
  const stat = java ? fs.statSync(java) : null;
  const jvm = `${java} ${stat?.size} ${stat?.mtimeMs}`;
  const jars = fs.readFileSync(path.join(kafkaCacheDir(), 'complete'), 'utf8');
  const hash = createHash('sha256').update(`${jvm}\n${jars}`).digest('hex').slice(0, 16);
  return path.join(kafkaCacheDir(), `classes-${hash}.jsa`);
}

/** The JVM writes the archive as it exits; one cut short (killed) is thrown away. */
async function keepClassArchive(
  written: string,
  archive: string,
  exit: { code: number | null; signal: NodeJS.Signals | null },
  log: (line: string) => void,
): Promise<void> {
  // 143: the JVM's exit after running its shutdown hooks on SIGTERM.
  const clean = exit.signal === null && (exit.code === 0 || exit.code === 143);
  if (clean && fs.existsSync(written)) {
    await fsp.rename(written, archive);
    // Archives of earlier jars or JVMs can no longer be used.
    const stale = (await fsp.readdir(path.dirname(archive))).filter(
      (file) => /^classes-.*\.jsa$/.test(file) && file !== path.basename(archive),
    );
    await Promise.all(stale.map((file) => fsp.rm(path.join(path.dirname(archive), file), { force: true })));
    log(`Recorded the broker's classes in ${archive}: later starts are faster`);
  } else {
    await fsp.rm(written, { force: true });
  }
}

/** The real path of the java binary that javaBinary() runs, or null when it cannot be found. */
function resolvedJava(): string | null {
  const candidates = process.env.JAVA_HOME
    ? [javaBinary()]
    : (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'java'));
  for (const candidate of candidates) {
    try {
      return fs.realpathSync(candidate);
    } catch {
      // not in this folder
    }
  }
  return null;
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function jvmOptions(libsDir: string): string[] {
  return [
    '-Xmx512m',
    // The throughput collector: G1's concurrent work costs more CPU than a 512 MB heap needs
    // (bench W1 at 10 in flight: the broker's share fell from 1.92 to 1.69 ms per request).
    '-XX:+UseParallelGC',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=${pathToFileURL(LOG4J_FILE).href}`,
    '-cp',
    path.join(libsDir, '*'),
  ];
}

async function waitForLogLine(child: ChildProcess, logFile: string, line: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await readIfExists(logFile))?.includes(line)) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Kafka exited (${child.exitCode ?? child.signalCode}) before it was ready.\n${await logTail(logFile)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`Kafka was not ready after ${seconds(timeoutMs)} (no "${line}" in ${logFile}).\n${await logTail(logFile)}`);
    }
    await sleep(100);
  }
}

const DEV_DATA_DIR = path.join(REPO_ROOT, '.mart', 'kafka');

async function main(command: string): Promise<void> {
  switch (command) {
    case 'start': {
      await ensureKafkaJars();
      const startedAt = Date.now();
      const broker = await startKafka({ dataDir: DEV_DATA_DIR, detached: true });
      console.log(`Kafka ready at ${broker.brokers} in ${seconds(Date.now() - startedAt)} (pid ${broker.pid}, log ${broker.logFile})`);
      return;
    }
    case 'stop':
      console.log((await stopKafka(DEV_DATA_DIR)) ? 'Kafka stopped' : 'Kafka was not running');
      return;
    case 'status': {
      const pid = await runningBrokerPid(DEV_DATA_DIR);
      if (pid === null) {
        console.log('Kafka is not running');
        process.exitCode = 3;
        return;
      }
      const properties = (await readIfExists(path.join(DEV_DATA_DIR, 'server.properties'))) ?? '';
      const brokers = /^advertised\.listeners=PLAINTEXT:\/\/(.+)$/m.exec(properties)?.[1] ?? 'unknown';
      console.log(`Kafka is running at ${brokers} (pid ${pid}, RSS ${Math.round((residentKib(pid) ?? 0) / 1024)} MiB)`);
      return;
    }
    default:
      console.error('Usage: tsx tools/kafka.ts start|stop|status');
      process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv[2] ?? '').catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
