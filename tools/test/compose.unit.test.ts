/**
 * docker-compose.yml and the Dockerfile against the code. There is no Docker engine here (no
 * `docker compose config`), so this parses the files and checks what compose would only find out
 * at run time: every service folder has a block built from the root Dockerfile, ports match
 * tools/services.ts, every variable set is one the service's config schema knows, required ones
 * are set and the whole environment passes the schema, .env.example documents every variable,
 * Kong routes every path prefix, and the image runs the same bundle as the local stack.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { z } from '@mart/common/zod';
import { expect } from 'chai';
import { parse } from 'yaml';

import { REPO_ROOT, SERVICES, serviceEntry, type ServiceName } from '../services.ts';
import { SERVICE_NODE_FLAGS } from '../stack.ts';

interface ComposeService {
  image?: string;
  build?: { context?: string; args?: Record<string, string> };
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string }>;
  command?: unknown;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

interface KongFile {
  plugins?: { name: string }[];
  services?: { name: string; url: string; routes?: { paths?: string[]; strip_path?: boolean; plugins?: { name: string }[] }[] }[];
}

const readYaml = <T>(file: string): T => parse(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'), { merge: true }) as T;

const compose = readYaml<ComposeFile>('docker-compose.yml');
/** The file without its comments, which may mention ${VARIABLES} and sleeps in prose. */
const composeText = fs
  .readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')
  .replace(/^\s*#.*$/gm, '')
  .replace(/\s#.*$/gm, '');

/** `NAME=value  # comment` lines of .env.example, as docker compose reads a .env file. */
function readEnvExample(): Map<string, string> {
  const variables = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8').split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) variables.set(match[1]!, match[2]!.replace(/\s+#.*$/, '').trim());
  }
  return variables;
}
const envExample = readEnvExample();

const reference = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** The ${VARIABLE}s a compose value refers to. */
function referencedVariables(text: string): string[] {
  return [...text.matchAll(reference)].map((match) => match[1] ?? match[4]).filter((name): name is string => !!name);
}

/** Compose's interpolation of one value, with `vars` as the .env file. */
function interpolate(text: string, vars: Map<string, string>): string {
  return text.replace(reference, (whole, braced?: string, operator?: string, argument?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = vars.get(name);
    const unset = operator?.startsWith(':') ? !value : value === undefined;
    if (!unset) return value!;
    if (operator?.endsWith('-')) return argument ?? '';
    if (operator?.endsWith('?')) throw new Error(`\${${name}} is required: ${argument}`);
    return '';
  });
}

/** What a service's process.env would hold (ours excepted), after `cp .env.example .env`. */
function serviceEnvironment(name: string, vars = envExample): Record<string, string> {
  const environment = compose.services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, interpolate(String(value ?? ''), vars)]));
}

/** The one exported `<x>ConfigSchema` of `<name>/src/config.ts`. */
async function configSchema(name: ServiceName): Promise<z.ZodType> {
  const module = (await import(pathToFileURL(path.join(REPO_ROOT, name, 'src', 'config.ts')).href)) as Record<string, unknown>;
  const schemas = Object.entries(module).filter(([exported, value]) => exported.endsWith('ConfigSchema') && value instanceof z.ZodType);
  expect(schemas, `${name}/src/config.ts exports one *ConfigSchema`).to.have.length(1);
  return schemas[0]![1] as z.ZodType;
}

/** The variables a schema knows: its object's shape, under refinements and transforms. */
function shapeOf(schema: z.ZodType): Record<string, z.ZodType> {
  let current: z.ZodType = schema;
  while (!(current instanceof z.ZodObject)) {
    if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    else throw new Error(`not an object schema: ${current.constructor.name}`);
  }
  return current.shape as Record<string, z.ZodType>;
}

const schemas = new Map<ServiceName, z.ZodType>();
before(async () => {
  for (const { name } of SERVICES) schemas.set(name, await configSchema(name));
});

describe('docker-compose.yml', () => {
  it('has a block for every service folder, and tools/services.ts lists every folder', () => {
    const folders = fs
      .readdirSync(REPO_ROOT, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name.endsWith('-service'))
      .map((entry) => entry.name)
      .sort();
    expect(folders).to.deep.equal(SERVICES.map((service) => service.name).sort());
    for (const name of folders) expect(compose.services, `a compose block for ${name}`).to.have.property(name);
  });

  it('builds every service from the root Dockerfile with its own SERVICE argument', () => {
    expect(fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8')).to.match(/^ARG SERVICE$/m);
    for (const { name } of SERVICES) {
      const service = compose.services[name]!;
      expect(service.image, `${name} is built, not pulled`).to.equal(undefined);
      expect(service.build, name).to.deep.equal({ context: '.', args: { SERVICE: name } });
    }
  });

  it('publishes every service on its port from tools/services.ts, and tells it that port', () => {
    for (const { name, port } of SERVICES) {
      expect(compose.services[name]!.ports, name).to.deep.equal([`${port}:${port}`]);
      expect(serviceEnvironment(name).PORT, name).to.equal(String(port));
    }
  });

  it('starts services in order of health: kafka and postgres, then db-service, then the rest', () => {
    const healthy = (name: string) =>
      Object.entries(compose.services[name]!.depends_on ?? {}).filter(([, d]) => d.condition === 'service_healthy');
    for (const { name } of SERVICES) {
      const service = compose.services[name]!;
      expect(JSON.stringify(service.healthcheck?.test), `${name} healthcheck`).to.include('/ready');
      const waitsFor = healthy(name).map(([dependency]) => dependency);
      expect(waitsFor, name).to.include('kafka');
      expect(waitsFor, name).to.include(name === 'db-service' ? 'postgres' : 'db-service');
    }
    for (const dependency of ['kafka', 'postgres']) expect(compose.services[dependency]!.healthcheck, dependency).to.not.equal(undefined);
    expect(composeText).to.not.match(/\bsleep\b/);
  });

  it('sets only variables that the service’s config schema knows', () => {
    for (const { name } of SERVICES) {
      const known = Object.keys(shapeOf(schemas.get(name)!));
      const unknown = Object.keys(serviceEnvironment(name)).filter((variable) => !known.includes(variable));
      expect(unknown, `variables ${name} does not read`).to.deep.equal([]);
    }
  });

  it('sets every required variable, and each environment passes its schema', () => {
    for (const { name } of SERVICES) {
      const schema = schemas.get(name)!;
      const environment = serviceEnvironment(name);
      const required = Object.entries(shapeOf(schema))
        .filter(([, field]) => !field.safeParse(undefined).success)
        .map(([variable]) => variable);
      expect(
        required.filter((variable) => !(variable in environment)),
        `required variables ${name} lacks`,
      ).to.deep.equal([]);
      const result = schema.safeParse(environment);
      expect(
        result.success,
        `${name}: ${result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      ).to.equal(true);
    }
  });

  it('passes every schema in production too, with no .env but the one required ${VARIABLE}', () => {
    const required = new Set([...composeText.matchAll(/\$\{([A-Z_]+):?\?/g)].map((match) => match[1]!));
    expect([...required]).to.deep.equal(['ADMIN_PASSWORD']);
    const vars = new Map([['ADMIN_PASSWORD', 'a-long-production-secret-42']]);
    for (const { name } of SERVICES) {
      const environment = serviceEnvironment(name, vars);
      expect(environment.NODE_ENV, name).to.equal('production');
      const result = schemas.get(name)!.safeParse(environment);
      expect(
        result.success,
        `${name}: ${result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      ).to.equal(true);
    }
  });

  it('gives the signing key to auth-service only, and the verifying key and key volume to every HTTP service', () => {
    for (const { name } of SERVICES) {
      const environment = serviceEnvironment(name);
      expect('AUTH_PRIVATE_KEY_FILE' in environment || 'AUTH_PRIVATE_KEY' in environment, name).to.equal(name === 'auth-service');
      if (name === 'db-service') continue;
      expect(environment.AUTH_PUBLIC_KEY_FILE, name).to.equal('/keys/jwt-public.pem');
      expect(compose.services[name]!.volumes, name).to.include('jwt-keys:/keys:ro');
    }
    expect(serviceEnvironment('auth-service').AUTH_PRIVATE_KEY_FILE).to.equal('/keys/jwt-private.pem');
    expect(serviceEnvironment('auth-service').TRUST_PROXY, 'auth-service is behind Kong').to.not.be.oneOf(['', 'false']);
  });

  it('documents in .env.example every variable a config schema knows and every ${VARIABLE} it uses', () => {
    const known = new Set(SERVICES.flatMap(({ name }) => Object.keys(shapeOf(schemas.get(name)!))));
    expect(
      [...known].filter((variable) => !envExample.has(variable)),
      'missing from .env.example',
    ).to.deep.equal([]);
    const used = new Set(referencedVariables(composeText));
    expect(used.size).to.be.greaterThan(0);
    expect(
      [...used].filter((variable) => !envExample.has(variable)),
      'missing from .env.example',
    ).to.deep.equal([]);
  });

  it('has nothing secret in the compose file: secrets come from ${VARIABLES}', () => {
    for (const { name } of SERVICES) {
      const environment = compose.services[name]!.environment ?? {};
      for (const [variable, value] of Object.entries(environment)) {
        if (/SECRET|PASSWORD|TOKEN|PRIVATE_KEY$/.test(variable)) {
          expect(String(value), `${name} ${variable}`).to.match(/^\$\{[A-Z_]+(:?[-?][^}]*)?\}$/);
        }
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  /** The last stage, without its comments. */
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM ')).replace(/^\s*#.*$/gm, '');

  it('bundles in the build stage and leaves only production dependencies', () => {
    expect(dockerfile).to.match(/^RUN npm run build && npm prune --omit=dev\b/m);
  });

  it('runs the bundle the local stack runs, with the same node flags, and no TypeScript loader', () => {
    const entry = path.relative(REPO_ROOT, serviceEntry('brand-service')).replace('brand-service', '${SERVICE}');
    const command = ['exec node', ...SERVICE_NODE_FLAGS, entry].join(' ');
    expect(runtime).to.include(`CMD ["sh", "-c", "${command}"]`);
    expect(runtime).to.not.match(/tsx|\.ts\b/);
  });
});

describe('deploy/kong/kong.yml', () => {
  const kong = readYaml<KongFile>('deploy/kong/kong.yml');

  it('is what the kong service loads, DB-less, on port 8000', () => {
    const service = compose.services.kong!;
    expect(service.image).to.match(/^kong:3/);
    expect(service.environment).to.include({ KONG_DATABASE: 'off', KONG_DECLARATIVE_CONFIG: '/kong/kong.yml' });
    expect(service.volumes).to.include('./deploy/kong/kong.yml:/kong/kong.yml:ro');
    expect(service.ports).to.deep.equal(['${KONG_PORT:-8000}:8000']);
  });

  it('routes every path prefix of tools/services.ts to its service, path preserved', () => {
    for (const { name, port, pathPrefix } of SERVICES) {
      if (pathPrefix === null) continue;
      const routed = (kong.services ?? []).filter((service) => (service.routes ?? []).some((route) => route.paths?.includes(pathPrefix)));
      expect(routed, pathPrefix).to.have.length(1);
      expect(routed[0]!.url, pathPrefix).to.equal(`http://${name}:${port}`);
      for (const route of routed[0]!.routes ?? []) expect(route.strip_path, `${pathPrefix} keeps its path`).to.equal(false);
    }
    const targets = (kong.services ?? []).map((service) => new URL(service.url).hostname);
    expect(
      targets.filter((host) => !(host in compose.services)),
      'Kong services without a compose block',
    ).to.deep.equal([]);
  });

  it("serves every service's Swagger UI and OpenAPI document under its prefix", () => {
    for (const { name, port, pathPrefix } of SERVICES) {
      if (pathPrefix === null) continue;
      for (const [suffix, upstream] of [
        ['/docs', '/docs'],
        ['/openapi.json', '/openapi.json'],
      ] as const) {
        const routed = (kong.services ?? []).filter((service) =>
          (service.routes ?? []).some((route) => route.paths?.includes(pathPrefix + suffix)),
        );
        expect(routed, pathPrefix + suffix).to.have.length(1);
        expect(routed[0]!.url).to.equal(`http://${name}:${port}${upstream}`);
        for (const route of routed[0]!.routes ?? []) expect(route.strip_path, `${pathPrefix + suffix} is stripped`).to.equal(true);
      }
    }
  });

  it('rate limits every route', () => {
    expect((kong.plugins ?? []).map((plugin) => plugin.name)).to.include('rate-limiting');
  });
});

describe('deploy/kafka-ui/config.yml', () => {
  const config = readYaml<{
    kafka: { clusters: { bootstrapServers: string; serde: { name: string; properties: Record<string, unknown> }[] }[] };
  }>('deploy/kafka-ui/config.yml');

  it('decodes with message types that exist in proto/mart, mounted where the serde reads them', () => {
    const service = compose.services['kafka-ui']!;
    expect(service.volumes).to.include('./proto/mart:/protofiles:ro');
    const [cluster] = config.kafka.clusters;
    expect(cluster!.bootstrapServers).to.equal('kafka:9092');
    const serde = cluster!.serde.find((entry) => entry.name === 'ProtobufFile')!;
    expect(serde.properties.protobufFilesDir).to.equal('/protofiles');
    const messages = new Set<string>();
    for (const file of fs.readdirSync(path.join(REPO_ROOT, 'proto', 'mart')).filter((f) => f.endsWith('.proto'))) {
      const text = fs.readFileSync(path.join(REPO_ROOT, 'proto', 'mart', file), 'utf8');
      const packageName = /^package ([\w.]+);/m.exec(text)![1];
      for (const match of text.matchAll(/^message (\w+)/gm)) messages.add(`${packageName}.${match[1]}`);
    }
    const mapped = Object.values(serde.properties.protobufMessageNameByTopic as Record<string, string>);
    expect(mapped).to.not.be.empty;
    expect(
      mapped.filter((type) => !messages.has(type)),
      'unknown message types',
    ).to.deep.equal([]);
  });
});
