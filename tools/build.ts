/**
 * `npm run build`: the generated code (protobuf in proto/gen, the Prisma client in
 * db-service/src/generated), then one JavaScript bundle per service, `<name>/dist/main.js`, which
 * is what the stack, the tests and the Docker image run: no TypeScript loader at run time.
 *
 *   tsx tools/build.ts            only what is out of date
 *   tsx tools/build.ts --force    everything
 *
 * Each step is skipped when its outputs are newer than its inputs, so a warm `npm start` spends
 * a fraction of a second here. A bundle holds the service's own code, @mart/* and the Prisma
 * client; other packages stay in node_modules (some read files next to their own code).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import * as esbuild from 'esbuild';

import { seconds } from './process.ts';
import { REPO_ROOT, serviceEntry, serviceSource, servicesWithSource, type ServiceName } from './services.ts';

const BUILD_FILE = fileURLToPath(import.meta.url);
/** A dependency upgrade (a new pbjs, prisma or esbuild) changes this file, and so rebuilds. */
const LOCK_FILE = path.join(REPO_ROOT, 'package-lock.json');

interface Generator {
  name: string;
  /** The npm script that generates, as `npm run <script> -w <workspace>`. */
  workspace: string;
  script: string;
  inputs: () => string[];
  outputs: () => string[];
}

const GENERATORS: Generator[] = [
  {
    name: 'protobuf code',
    workspace: '@mart/proto',
    script: 'build',
    inputs: () => [...filesIn(path.join(REPO_ROOT, 'proto', 'mart')), path.join(REPO_ROOT, 'proto', 'package.json'), LOCK_FILE],
    outputs: () => ['mart.js', 'mart.d.ts'].map((file) => path.join(REPO_ROOT, 'proto', 'gen', file)),
  },
  {
    name: 'Prisma client',
    workspace: '@mart/db-service',
    script: 'generate',
    inputs: () => [
      path.join(REPO_ROOT, 'db-service', 'prisma', 'schema.prisma'),
      path.join(REPO_ROOT, 'db-service', 'package.json'),
      LOCK_FILE,
    ],
    // Every file, so that a generation cut short counts as stale.
    outputs: () => filesIn(path.join(REPO_ROOT, 'db-service', 'src', 'generated', 'prisma')),
  },
];

export interface BuildOptions {
  force?: boolean;
  log?: (line: string) => void;
}

export async function build(options: BuildOptions = {}): Promise<void> {
  const log = options.log ?? console.log;
  const stale = GENERATORS.filter((generator) => options.force || !isFresh(generator.outputs(), generator.inputs()));
  // Independent of each other; pbts is the slow one (about 5 s), so they run side by side.
  await Promise.all(stale.map((generator) => generate(generator, log)));
  await bundleServices(REPO_ROOT, servicesWithSource(), { force: options.force, log });
}

/**
 * Bundles `<name>/src/main.ts` into `<name>/dist/main.js` for each service whose bundle is older
 * than any file it was built from (listed in `dist/main.inputs.json` by the previous build).
 */
export async function bundleServices(
  rootDir: string,
  services: readonly ServiceName[],
  options: { force?: boolean; log?: (line: string) => void } = {},
): Promise<void> {
  const log = options.log ?? console.log;
  const stale = services.filter((name) => options.force || !isBundleFresh(name, rootDir));
  if (stale.length === 0) return;
  const startedAt = Date.now();
  const result = await esbuild.build({
    absWorkingDir: rootDir,
    entryPoints: stale.map((name) => ({
      in: serviceSource(name, rootDir),
      out: path.relative(rootDir, serviceEntry(name, rootDir)).replace(/\.js$/, ''),
    })),
    outdir: rootDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Source maps as files, for debuggers and NODE_OPTIONS=--enable-source-maps; off by default
    // in the services because they make every error.stack expensive.
    sourcemap: 'linked',
    // Error classes and handlers keep their names in logs and error.name.
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [keepPackagesExternal, keepModuleUrls],
  });
  await Promise.all(stale.map((name) => writeBundleInputs(name, rootDir, result.metafile)));
  log(`Bundled ${stale.length} service${stale.length === 1 ? '' : 's'} into <name>/dist/main.js in ${seconds(Date.now() - startedAt)}`);
}

/** node_modules packages stay outside the bundle, except our own workspaces (@mart/*), which are TypeScript. */
const keepPackagesExternal: esbuild.Plugin = {
  name: 'keep-packages-external',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@mart/') || path.isAbsolute(args.path)) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/**
 * In a bundle, `import.meta.url` would be the bundle's URL for every module in it: a module that
 * finds files next to itself, or checks whether it is the entry point (db-service/src/migrate.ts
 * does both), would then be wrong. This keeps it the URL of the module's own source file,
 * computed relative to the bundle so that the checkout can move.
 */
const keepModuleUrls: esbuild.Plugin = {
  name: 'keep-module-urls',
  setup(builder) {
    const outdir = builder.initialOptions.outdir!;
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = await fsp.readFile(args.path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', moduleUrlExpression(args.path, outdir)), loader: 'ts' };
    });
  },
};

/** Every bundle sits at `<root>/<name>/dist/main.js`, so one relative path serves all of them. */
function moduleUrlExpression(file: string, rootDir: string): string {
  const fromBundle = path
    .relative(path.join(rootDir, 'any-service', 'dist'), file)
    .split(path.sep)
    .join('/');
  return `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
}

function inputsFile(name: ServiceName, rootDir: string): string {
  return `${serviceEntry(name, rootDir)}.inputs.json`;
}

async function writeBundleInputs(name: ServiceName, rootDir: string, metafile: esbuild.Metafile): Promise<void> {
  const entry = path.relative(rootDir, serviceEntry(name, rootDir)).split(path.sep).join('/');
  const output = metafile.outputs[entry];
  if (!output) throw new Error(`esbuild wrote no ${entry}`);
  const inputs = Object.keys(output.inputs).map((input) => path.resolve(rootDir, input));
  await fsp.writeFile(inputsFile(name, rootDir), `${JSON.stringify(inputs, null, 2)}\n`);
}

function isBundleFresh(name: ServiceName, rootDir: string): boolean {
  let inputs: string[];
  try {
    inputs = JSON.parse(fs.readFileSync(inputsFile(name, rootDir), 'utf8')) as string[];
  } catch {
    return false; // never built
  }
  return isFresh([serviceEntry(name, rootDir)], [...inputs, BUILD_FILE, LOCK_FILE]);
}

/** Every output exists and none is older than any input (a missing input counts as changed). */
export function isFresh(outputs: string[], inputs: string[]): boolean {
  const oldestOutput = Math.min(...outputs.map(modifiedAt));
  const newestInput = Math.max(...inputs.map(modifiedAt));
  return outputs.length > 0 && Number.isFinite(oldestOutput) && newestInput <= oldestOutput;
}

function modifiedAt(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return Number.NaN;
  }
}

function filesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) => path.join(dir, file));
  return files.filter((file) => fs.statSync(file).isFile());
}

async function generate(generator: Generator, log: (line: string) => void): Promise<void> {
  const startedAt = Date.now();
  const child = spawn('npm', ['run', generator.script, '-w', generator.workspace], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (exitCode !== 0) {
    throw new Error(
      `Generating the ${generator.name} failed (npm run ${generator.script} -w ${generator.workspace}):\n${Buffer.concat(output)}`,
    );
  }
  log(`Generated the ${generator.name} in ${seconds(Date.now() - startedAt)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { force: { type: 'boolean', default: false } } });
  build({ force: values.force }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
