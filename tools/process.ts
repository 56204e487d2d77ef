/**
 * Child-process plumbing shared by the local stack, the Kafka launcher and the test runner:
 * start in a process group of its own, stop with a grace period, check a port, read a log tail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { REPO_ROOT } from './services.ts';

/**
 * Starts a long-running child with its output in `logFile` (truncated), in a process group of
 * its own: a Ctrl-C in the terminal then reaches only our launcher, which stops the children in
 * order (services before the broker) instead of all at once.
 */
export function spawnInOwnGroup(
  command: string,
  args: string[],
  logFile: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; pipeOutput?: boolean } = {},
): ChildProcess {
  const logFd = fs.openSync(logFile, 'w');
  try {
    const output = options.pipeOutput ? 'pipe' : logFd;
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', output, output],
    });
    if (child.pid === undefined) {
      child.once('error', () => undefined); // reported by the throw below, not as an uncaught 'error' event
      throw new Error(`Could not start ${command}: is it installed and on PATH?`);
    }
    if (options.pipeOutput) {
      const logStream = fs.createWriteStream(logFile, { flags: 'a' });
      child.stdout?.pipe(logStream, { end: false });
      child.stderr?.pipe(logStream, { end: false });
      child.once('close', () => logStream.end());
    }
    return child;
  } finally {
    fs.closeSync(logFd);
  }
}

const stopAtExit = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Sends the child SIGTERM if this process exits without an orderly stop (an uncaught error, an
 * interrupted start). Returns the function that lets the child outlive us after all (detached mode).
 */
export function stopOnExit(child: ChildProcess): () => void {
  if (!exitHookInstalled) {
    process.once('exit', stopRemainingChildren);
    exitHookInstalled = true;
  }
  stopAtExit.add(child);
  child.once('exit', () => stopAtExit.delete(child));
  return () => stopAtExit.delete(child);
}

function stopRemainingChildren(): void {
  // ChildProcess.kill() does nothing once the child has exited, so a reused pid is never hit.
  for (const child of stopAtExit) child.kill('SIGTERM');
}

/** SIGTERM, then SIGKILL once `graceMs` has passed; resolves when the process is gone. */
export async function stopProcess(pid: number, graceMs: number): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(100);
  if (!isRunning(pid)) return;
  signal(pid, 'SIGKILL');
  while (isRunning(pid)) await sleep(50);
}

/** Alive and not a zombie (a zombie still answers signal 0 until its parent reaps it). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false; // no such process
  }
}

export function commandLineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Resident memory in KiB, from /proc/<pid>/status; null when the process is gone. */
export function residentKib(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export async function assertPortFree(port: number, what: string): Promise<void> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'is already in use' : `cannot be opened (${code ?? String(error)})`;
    throw new Error(
      `Port ${port} for ${what} ${reason}. Is a Mart stack or broker still running? ` +
        `Try "npm run stack:down", or find the process with "ss -ltnp 'sport = :${port}'".`,
      { cause: error },
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

export async function logTail(file: string, lines = 30): Promise<string> {
  const text = (await readIfExists(file)) ?? '';
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return `--- last ${lines} lines of ${file} ---\n${tail}\n--- end of ${file} ---`;
}

/** Runs a short command; on failure the error carries its whole output. */
export async function runToCompletion(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error(`"${command}" was not found; Mart's tools need Java 17+ and Maven 3.8+ on PATH.`) : error),
    );
    child.once('close', resolve);
  });
  if (exitCode !== 0) {
    const shown = [command, ...args].join(' ');
    throw new Error(`"${shown}" failed with exit code ${exitCode}:\n${Buffer.concat(output).toString('utf8')}`);
  }
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false; // already gone
  }
}

export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
