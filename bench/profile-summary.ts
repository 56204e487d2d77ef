/**
 * Prints where a `node --cpu-prof` profile spent its CPU: the top frames by self time, and self
 * time by package (kafkajs, @prisma, pg, protobufjs, express, pino, zod, node internals, mart code).
 * `npm run bench -- --profile <dir>` leaves one profile per service there; its results JSON has
 * each row's window in monotonic ms (the profile's own clock), so a profile can be cut to one row.
 *
 *   tsx bench/profile-summary.ts <file.cpuprofile>... [--top 15] [--window bench/results/bench-<time>.json:W1.max]
 *                                [--from <ms> --to <ms>] [--json]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The parts of V8's .cpuprofile format this reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  /** Microseconds, CLOCK_MONOTONIC. */
  startTime: number;
  endTime: number;
  /** The node each sample was taken in, and the microseconds since the sample before it. */
  samples: number[];
  timeDeltas: number[];
}

export interface FrameSummary {
  function: string;
  location: string;
  package: string;
  selfMs: number;
  /** Share of the CPU time (idle excluded). */
  percent: number;
}

export interface ProfileSummary {
  /** Sampled time in the window, idle included. */
  wallMs: number;
  /** Time the thread was idle (waiting in the event loop): not CPU. */
  idleMs: number;
  cpuMs: number;
  frames: FrameSummary[];
  packages: { package: string; selfMs: number; percent: number }[];
  /** The same, with node internals (socket writes, buffers, timers) charged to the package that called them. */
  callers: { package: string; selfMs: number; percent: number }[];
}

const REPO_ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Packages that are parts of a bigger one a reader knows by name. */
const FAMILIES: [RegExp, string][] = [
  [/^(@prisma\/.*|prisma)$/, '@prisma'],
  [/^(pg|pg-.*|postgres-.*|pgpass|split2)$/, 'pg'],
  [/^(protobufjs|@protobufjs\/.*|long)$/, 'protobufjs'],
  [/^(kafkajs)$/, 'kafkajs'],
  [
    /^(express|router|body-parser|raw-body|finalhandler|send|serve-static|qs|content-type|type-is|accepts|on-finished|mime-types|mime-db|negotiator|cookie|depd|iconv-lite|path-to-regexp|parseurl|statuses|http-errors|encodeurl|escape-html|media-typer|vary|fresh|etag|proxy-addr|forwarded|ipaddr\.js|destroy|ee-first|setprototypeof|toidentifier|unpipe|bytes|merge-descriptors|safe-buffer|safer-buffer|utils-merge|methods|range-parser|cookie-signature|content-disposition|debug|ms|side-channel.*|object-inspect|call-bound|call-bind.*|get-intrinsic|es-.*|function-bind|has-symbols|hasown|gopd|dunder-proto|math-intrinsics|get-proto)$/,
    'express',
  ],
  [
    /^(pino|pino-.*|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify|real-require|@pinojs\/.*|process-warning|fast-safe-stringify)$/,
    'pino',
  ],
  [/^(zod)$/, 'zod'],
  [/^(prom-client|tdigest|bintrees)$/, 'prom-client'],
  [/^(jsonwebtoken|jws|jwa|ecdsa-sig-formatter|buffer-equal-constant-time|lodash\..*|semver)$/, 'jsonwebtoken'],
  [/^(tsx|esbuild|get-tsconfig|resolve-pkg-maps)$/, 'tsx'],
];

/** Which package a frame's code belongs to. */
export function packageOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8 (program)';
    if (functionName === '(idle)') return 'idle';
    return 'node internals'; // a native builtin: a socket write, a hash, a JSON.parse
  }
  if (url.startsWith('node:')) return 'node internals';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inModules = file.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const parts = file.slice(inModules + '/node_modules/'.length).split('/');
    const name = parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
    return FAMILIES.find(([pattern]) => pattern.test(name))?.[1] ?? name;
  }
  const relative = path.relative(REPO_ROOT, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return 'other';
  // Generated code belongs to the library that generated it: Prisma's client, protobufjs's codecs.
  if (relative.includes('/generated/prisma/')) return '@prisma';
  if (relative.startsWith('proto/gen/')) return 'protobufjs';
  return 'mart';
}

function location(url: string, line: number): string {
  if (url === '') return '';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inModules = file.lastIndexOf('/node_modules/');
  const shown =
    inModules >= 0
      ? file.slice(inModules + '/node_modules/'.length)
      : path.relative(REPO_ROOT, file).startsWith('..')
        ? file
        : path.relative(REPO_ROOT, file);
  return `${shown}:${line + 1}`;
}

/** Self time per frame and per package over the samples taken between `fromMs` and `toMs` (monotonic ms). */
export function summarizeProfile(profile: CpuProfile, window: { fromMs?: number; toMs?: number } = {}, top = 15): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const from = (window.fromMs ?? -Infinity) * 1000;
  const to = (window.toMs ?? Infinity) * 1000;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one (DevTools does the same).
    const next = i + 1 < profile.samples.length ? (profile.timeDeltas[i + 1] ?? 0) : profile.endTime - at;
    if (at < from || at > to) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next));
  }

  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const packageOfNode = (id: number) => {
    const { url, functionName } = nodes.get(id)!.callFrame;
    return packageOf(url, functionName);
  };
  /** Node's own code is there for someone: charge it to the nearest caller that is not node itself. */
  const callerOf = (id: number) => {
    for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
      const name = packageOfNode(current);
      if (name !== 'node internals') return name;
    }
    return 'node internals';
  };

  const frames = new Map<string, Omit<FrameSummary, 'percent'>>();
  const callerUs = new Map<string, number>();
  let idleUs = 0;
  let wallUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    wallUs += us;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = `${functionName}\u0000${url}\u0000${lineNumber}`;
    const frame = frames.get(key) ?? {
      function: functionName || '(anonymous)',
      location: location(url, lineNumber),
      package: packageOf(url, functionName),
      selfMs: 0,
    };
    frame.selfMs += us / 1000;
    frames.set(key, frame);
    const caller = frame.package === 'node internals' ? callerOf(id) : frame.package;
    callerUs.set(caller, (callerUs.get(caller) ?? 0) + us);
  }
  const cpuMs = (wallUs - idleUs) / 1000;
  const percent = (ms: number) => (cpuMs > 0 ? Math.round((ms / cpuMs) * 1000) / 10 : 0);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  const byPackage = (entries: Iterable<[string, number]>) =>
    [...entries].sort(([, a], [, b]) => b - a).map(([name, ms]) => ({ package: name, selfMs: round(ms), percent: percent(ms) }));
  const packages = new Map<string, number>();
  for (const frame of frames.values()) packages.set(frame.package, (packages.get(frame.package) ?? 0) + frame.selfMs);
  return {
    wallMs: round(wallUs / 1000),
    idleMs: round(idleUs / 1000),
    cpuMs: round(cpuMs),
    frames: [...frames.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((frame) => ({ ...frame, selfMs: round(frame.selfMs), percent: percent(frame.selfMs) })),
    packages: byPackage(packages),
    callers: byPackage([...callerUs].map(([name, us]) => [name, us / 1000] as [string, number])),
  };
}

export function formatSummary(title: string, summary: ProfileSummary): string {
  const table = (header: string[], lines: string[][]) => {
    const widths = header.map((cell, column) => Math.max(cell.length, ...lines.map((line) => line[column]!.length)));
    const numeric = (column: number) => column < 2 || header[column]!.startsWith('charged');
    const pad = (cell: string, column: number) => (numeric(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!));
    return [header, ...lines].map((line) => `  ${line.map(pad).join('  ')}`.trimEnd());
  };
  return [
    `${title}: ${summary.cpuMs} ms on CPU in ${summary.wallMs} ms sampled (idle ${summary.idleMs} ms left out)`,
    `Top ${summary.frames.length} frames by self time:`,
    ...table(
      ['self ms', '%', 'function', 'package', 'location'],
      summary.frames.map((frame) => [frame.selfMs.toFixed(1), frame.percent.toFixed(1), frame.function, frame.package, frame.location]),
    ),
    'Self time by package, and with node internals charged to the package that called them:',
    ...table(
      ['self ms', '%', 'package', 'charged ms', 'charged %', 'package'],
      Array.from({ length: Math.max(summary.packages.length, summary.callers.length) }, (_, n) => {
        const own = summary.packages[n];
        const charged = summary.callers[n];
        return [
          own ? own.selfMs.toFixed(1) : '',
          own ? own.percent.toFixed(1) : '',
          own?.package ?? '',
          charged ? charged.selfMs.toFixed(1) : '',
          charged ? charged.percent.toFixed(1) : '',
          charged?.package ?? '',
        ];
      }),
    ),
  ].join('\n');
}

/** `results.json:W1.max` → that row's window, from the bench's results. */
function rowWindow(spec: string): { fromMs: number; toMs: number } {
  const split = spec.lastIndexOf(':');
  const [file, key] = [spec.slice(0, split), spec.slice(split + 1)];
  const results = JSON.parse(fs.readFileSync(file, 'utf8')) as { rows: { key: string; window?: { startMs: number; endMs: number } }[] };
  const row = results.rows.find((candidate) => candidate.key === key);
  if (!row?.window) throw new Error(`${file} has no row ${key} with a window (rows: ${results.rows.map((r) => r.key).join(', ')})`);
  return { fromMs: row.window.startMs, toMs: row.window.endMs };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '15' },
      window: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) {
    console.error(
      'Usage: tsx bench/profile-summary.ts <file.cpuprofile>... [--top 15] [--window results.json:W1.max] [--from ms --to ms] [--json]',
    );
    process.exit(2);
  }
  const window = values.window
    ? rowWindow(values.window)
    : {
        fromMs: values.from === undefined ? undefined : Number(values.from),
        toMs: values.to === undefined ? undefined : Number(values.to),
      };
  for (const file of positionals) {
    const summary = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, window, Number(values.top));
    console.log(values.json ? JSON.stringify({ file, ...summary }) : `${formatSummary(path.basename(file), summary)}\n`);
  }
}
