import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { expect } from 'chai';

import { assertPortFree, commandLineOf, isRunning } from '../process.ts';
import { serviceEntry, serviceSource, type ServiceName } from '../services.ts';
import { SERVICE_NODE_FLAGS, startStack, stopStack, type StackOptions } from '../stack.ts';

const FAKE_SERVICE = path.join(import.meta.dirname, 'fixtures', 'fake-service.ts');
const NAMES: ServiceName[] = ['db-service', 'auth-service', 'brand-service'];
const DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/only_for_db_service';

interface FakeInfo {
  name: string;
  startedAt: number;
  readyAt: number;
  cwd: string;
  env: Record<string, string | null>;
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Ports the system picks, so the tests never collide with a stack someone is running. */
async function freePorts(names: ServiceName[]): Promise<Partial<Record<ServiceName, number>>> {
  const servers = await Promise.all(
    names.map(async () => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return Object.fromEntries(names.map((name, index) => [name, ports[index]]));
}

async function info(url: string): Promise<FakeInfo> {
  return (await (await fetch(`${url}/info`)).json()) as FakeInfo;
}

describe('stack', () => {
  let rootDir: string;
  let options: StackOptions;
  let ports: Partial<Record<ServiceName, number>>;

  beforeEach(async () => {
    // A checkout of fake services: each <name>/src/main.ts runs the fixture, bundled by startStack.
    rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mart-stack-'));
    for (const name of NAMES) {
      fs.mkdirSync(path.dirname(serviceSource(name, rootDir)), { recursive: true });
      fs.writeFileSync(serviceSource(name, rootDir), `import ${JSON.stringify(FAKE_SERVICE)};\n`);
    }
    options = {
      rootDir,
      kafka: { brokers: '127.0.0.1:1' },
      databaseUrl: DATABASE_URL,
      keysDir: path.join(rootDir, 'keys'),
      logDir: path.join(rootDir, 'logs'),
      stateFile: path.join(rootDir, 'stack.json'),
      ports: (ports = await freePorts(NAMES)),
      log: () => undefined,
    };
  });

  afterEach(async () => {
    await stopStack(path.join(rootDir, 'stack.json'));
    fs.rmSync(rootDir, { recursive: true, force: true });
  });

  it('starts every service at once from its bundle, gives each its settings, and stops them all', async () => {
    const stack = await startStack({
      ...options,
      env: { FAKE_SLOW: 'db-service', FAKE_EXTRA: 'yes', DATABASE_URL: 'must-not-leak', LOG_LEVEL: 'debug' },
    });
    const [db, auth, brand] = await Promise.all(NAMES.map((name) => info(stack.urls[name]!)));

    expect(stack.urls).to.deep.equal({
      'db-service': `http://127.0.0.1:${ports['db-service']}`,
      'auth-service': `http://127.0.0.1:${ports['auth-service']}`,
      'brand-service': `http://127.0.0.1:${ports['brand-service']}`,
    });
    // Services wait for db-service on their own, so the stack does not hold them back.
    expect(auth!.startedAt).to.be.below(db!.readyAt);
    expect(brand!.startedAt).to.be.below(db!.readyAt);
    for (const service of stack.services) {
      expect(commandLineOf(service.pid)).to.equal(
        `${[process.execPath, ...SERVICE_NODE_FLAGS, serviceEntry(service.name, rootDir)].join(' ')} `,
      );
    }

    expect(db!.env).to.include({ PORT: String(ports['db-service']), DATABASE_URL, AUTH_PRIVATE_KEY_FILE: null });
    expect(auth!.env).to.include({ DATABASE_URL: null, AUTH_PRIVATE_KEY_FILE: stack.keys.privateKeyFile });
    expect(brand!.env).to.include({ DATABASE_URL: null, AUTH_PRIVATE_KEY_FILE: null });
    for (const service of [db!, auth!, brand!]) {
      expect(service.env).to.include({
        KAFKA_BROKERS: '127.0.0.1:1',
        AUTH_PUBLIC_KEY_FILE: stack.keys.publicKeyFile,
        FAKE_EXTRA: 'yes',
        LOG_LEVEL: 'debug',
      });
      expect(service.cwd).to.equal(rootDir);
    }
    expect(fs.readFileSync(stack.keys.publicKeyFile, 'utf8')).to.match(/^-----BEGIN PUBLIC KEY-----/);
    expect(fs.readFileSync(path.join(rootDir, 'logs', 'brand-service.log'), 'utf8')).to.include(
      `brand-service listening on ${ports['brand-service']}`,
    );

    await stack.stop();
    for (const service of stack.services) expect(isRunning(service.pid)).to.equal(false);
    expect(fs.existsSync(path.join(rootDir, 'stack.json'))).to.equal(false);
  });

  it('fails with the end of the log, and leaves nothing running, when a service exits at start', async () => {
    const error = await rejectionOf(startStack({ ...options, env: { FAKE_CRASH: 'brand-service' } }));

    expect(error.message).to.match(/^brand-service exited \(3\) before it was ready/);
    expect(error.message).to.include('brand-service: crashing on purpose');
    for (const port of Object.values(ports)) await assertPortFree(port, 'a stopped fake service');
  });

  it('gives up on a service that never gets ready', async () => {
    const error = await rejectionOf(
      startStack({
        ...options,
        services: ['db-service'],
        env: { FAKE_NEVER_READY: 'db-service' },
        readyTimeoutMs: 500,
      }),
    );

    expect(error.message).to.include(`db-service was not ready after 0.5 s (GET http://127.0.0.1:${ports['db-service']}/ready)`);
    await assertPortFree(ports['db-service']!, 'a stopped fake service');
  });

  it('refuses to start twice from one state file, and stopStack stops the first', async () => {
    await startStack({ ...options, services: ['db-service'], detached: true });

    const error = await rejectionOf(startStack({ ...options, services: ['brand-service'] }));
    expect(error.message).to.match(/is still running \(pids \d+\)\. Stop it first with "npm run stack:down"/);

    expect(await stopStack(options.stateFile!)).to.equal(true);
    await assertPortFree(ports['db-service']!, 'a stopped fake service');
    expect(await stopStack(options.stateFile!)).to.equal(false);
  });
});
