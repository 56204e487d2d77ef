import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { packageOf, summarizeProfile, type CpuProfile } from '../profile-summary.ts';
import { REPO_ROOT } from '../../tools/services.ts';

const inRepo = (file: string) => pathToFileURL(path.join(REPO_ROOT, file)).href;

describe('bench profile summary', () => {
  it('names the package of a frame by where its code lives', () => {
    expect(packageOf(inRepo('node_modules/kafkajs/src/network/connection.js'), 'send')).to.equal('kafkajs');
    expect(packageOf(inRepo('node_modules/@prisma/client/runtime/client.js'), 'x')).to.equal('@prisma');
    expect(packageOf(inRepo('db-service/src/generated/prisma/internal/class.ts'), 'x')).to.equal('@prisma');
    expect(packageOf(inRepo('node_modules/pg-protocol/dist/parser.js'), 'parse')).to.equal('pg');
    expect(packageOf(inRepo('proto/gen/mart.js'), 'decode')).to.equal('protobufjs');
    expect(packageOf(inRepo('node_modules/body-parser/lib/types/json.js'), 'jsonParser')).to.equal('express');
    expect(packageOf(inRepo('node_modules/pino-http/logger.js'), 'loggingMiddleware')).to.equal('pino');
    expect(packageOf(inRepo('node_modules/undici/index.js'), 'x')).to.equal('undici');
    expect(packageOf(inRepo('common/src/kafka/rpc.client.ts'), 'call')).to.equal('mart');
    expect(packageOf('node:internal/streams/writable', 'write')).to.equal('node internals');
    expect(packageOf('', 'writev')).to.equal('node internals');
    expect(packageOf('', '(garbage collector)')).to.equal('GC');
    expect(packageOf('file:///usr/lib/elsewhere.js', 'x')).to.equal('other');
  });

  // Root → main → {decode, send}; samples every 1 ms from t = 1000 ms (in µs on the profile's clock).
  const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
    id,
    callFrame: { functionName, url, lineNumber: 9 },
    children,
  });
  const profile: CpuProfile = {
    nodes: [
      frame(1, '(root)', '', [2, 5, 6]),
      frame(2, 'main', inRepo('db-service/src/main.ts'), [3, 4]),
      frame(3, 'decode', inRepo('proto/gen/mart.js')),
      frame(4, 'send', inRepo('node_modules/kafkajs/src/producer/index.js')),
      frame(5, '(idle)', ''),
      frame(6, '(garbage collector)', ''),
    ],
    startTime: 1_000_000,
    endTime: 1_010_000,
    samples: [3, 3, 4, 5, 5, 5, 2, 3, 6, 3],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('sums self time per frame and per package, idle left out of the CPU', () => {
    const summary = summarizeProfile(profile);
    // 10 samples of 1 ms; the last one stands for the time until endTime (1 ms).
    expect(summary).to.include({ wallMs: 10, idleMs: 3, cpuMs: 7 });
    expect(summary.frames[0]).to.deep.equal({
      function: 'decode',
      location: 'proto/gen/mart.js:10',
      package: 'protobufjs',
      selfMs: 4,
      percent: 57.1,
    });
    expect(summary.packages.map((entry) => [entry.package, entry.selfMs])).to.deep.equal([
      ['protobufjs', 4],
      ['kafkajs', 1],
      ['mart', 1],
      ['GC', 1],
    ]);
  });

  it('keeps only the samples inside a window of monotonic milliseconds', () => {
    const summary = summarizeProfile(profile, { fromMs: 1006, toMs: 1008 });
    expect(summary).to.include({ cpuMs: 3, idleMs: 0 });
    expect(summary.frames.map((entry) => entry.function)).to.have.members(['main', 'decode', '(garbage collector)']);
  });

  it('charges node internals to the package that called them', () => {
    const writes: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2, 4]),
        frame(2, 'send', inRepo('node_modules/kafkajs/src/network/connection.js'), [3]),
        frame(3, 'writev', ''),
        frame(4, 'runMicrotasks', ''),
      ],
      startTime: 0,
      endTime: 4000,
      samples: [3, 3, 2, 4],
      timeDeltas: [0, 1000, 1000, 1000],
    };
    const summary = summarizeProfile(writes);
    expect(summary.packages.map((entry) => [entry.package, entry.selfMs])).to.deep.equal([
      ['node internals', 3],
      ['kafkajs', 1],
    ]);
    expect(summary.callers.map((entry) => [entry.package, entry.selfMs])).to.deep.equal([
      ['kafkajs', 3],
      ['node internals', 1], // nobody but node called it
    ]);
  });

  it('shows only the top frames asked for', () => {
    expect(summarizeProfile(profile, {}, 2).frames).to.have.length(2);
  });
});
