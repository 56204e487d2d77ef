import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { expect } from 'chai';

import { serverProperties, startKafka } from '../kafka.ts';
import { assertPortFree, isRunning, runToCompletion, stopProcess } from '../process.ts';

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

async function occupyPort(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('kafka', () => {
  describe('serverProperties', () => {
    const properties = serverProperties({ dataDir: '/data/k', port: 19092, controllerPort: 19093 });

    it('describes a single KRaft node on the given ports', () => {
      expect(properties).to.include('process.roles=broker,controller\n');
      expect(properties).to.include('controller.quorum.voters=1@127.0.0.1:19093\n');
      expect(properties).to.include('listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\n');
      expect(properties).to.include('advertised.listeners=PLAINTEXT://127.0.0.1:19092\n');
      expect(properties).to.include('log.dirs=/data/k/data\n');
    });

    it('is tuned for one broker and fast tests, with explicit topic creation', () => {
      for (const line of [
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=1',
        'transaction.state.log.replication.factor=1',
        'group.initial.rebalance.delay.ms=0',
        'auto.create.topics.enable=false',
        'num.partitions=3',
        'metadata.max.idle.interval.ms=10000',
      ]) {
        expect(properties).to.include(`${line}\n`);
      }
    });
  });

  describe('startKafka', () => {
    it('refuses a port in use, naming it, before starting anything', async () => {
      const server = await occupyPort();
      const port = (server.address() as net.AddressInfo).port;
      try {
        const dataDir = path.join(os.tmpdir(), `mart-kafka-busy-${process.pid}`);
        const error = await rejectionOf(startKafka({ dataDir, port, controllerPort: port + 1, log: () => undefined }));
        expect(error.message).to.match(new RegExp(`^Port ${port} for Kafka is already in use`));
      } finally {
        server.close();
      }
    });
  });

  describe('assertPortFree', () => {
    it('accepts a free port', async () => {
      const server = await occupyPort();
      const port = (server.address() as net.AddressInfo).port;
      await new Promise((resolve) => server.close(resolve));
      await assertPortFree(port, 'a test');
    });
  });

  describe('stopProcess', () => {
    it('kills a process that ignores SIGTERM once the grace period is over', async () => {
      const stubborn = spawn(
        process.execPath,
        ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);"],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exitSignal = new Promise((resolve) => stubborn.once('exit', (_code, signal) => resolve(signal)));
      await new Promise((resolve) => stubborn.stdout.once('data', resolve));
      const startedAt = Date.now();
      await stopProcess(stubborn.pid!, 300);
      expect(Date.now() - startedAt).to.be.at.least(300);
      expect(isRunning(stubborn.pid!)).to.equal(false);
      expect(await exitSignal).to.equal('SIGKILL');
    });

    it('returns at once for a process that is already gone, without waiting out the grace period', async () => {
      const quick = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => quick.once('exit', resolve));
      const graceMs = 10_000;
      const startedAt = performance.now();
      await stopProcess(quick.pid!, graceMs);
      // A tenth of the grace period: ample to signal a gone pid, and failed by any wait for the grace period.
      expect(performance.now() - startedAt).to.be.below(graceMs / 10);
    });
  });

  describe('runToCompletion', () => {
    it('puts the output of a failed command in the error', async () => {
      const error = await rejectionOf(runToCompletion(process.execPath, ['-e', 'console.log("boom"); process.exit(2)']));
      expect(error.message).to.include('failed with exit code 2').and.include('boom');
    });

    it('says which tool is missing', async () => {
      const error = await rejectionOf(runToCompletion('mart-no-such-tool', []));
      expect(error.message).to.match(/^"mart-no-such-tool" was not found/);
    });
  });
});
