import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { REPO_ROOT } from '../services.ts';

const run = promisify(execFile);
const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);

/** What a command printed and how it exited; a non-zero exit is an answer here, not an error. */
async function capture(file: string, args: string[], cwd = REPO_ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

interface AuditReport {
  vulnerabilities?: Record<string, { name: string; severity: string; range?: string }>;
  error?: unknown;
  message?: string;
}

/** The packages of an `npm audit --json` report with a high or critical finding, as `name (severity, range)`. */
export function blockingFindings(report: AuditReport): string[] {
  return Object.values(report.vulnerabilities ?? {})
    .filter(({ severity }) => severity === 'high' || severity === 'critical')
    .map(({ name, severity, range }) => `${name} (${severity}${range ? `, ${range}` : ''})`)
    .sort();
}

interface SecretlintResult {
  filePath: string;
  messages: { ruleId: string; message: string }[];
}

/** Runs secretlint with the repository's config; secrets are masked in what it prints. */
async function secretlint(files: string[], cwd = REPO_ROOT): Promise<{ code: number; findings: string[] }> {
  const config = path.join(REPO_ROOT, '.secretlintrc.json');
  const { code, stdout, stderr } = await capture(
    bin('secretlint'),
    ['--format', 'json', '--maskSecrets', '--secretlintrc', config, ...files],
    cwd,
  );
  if (code !== 0 && code !== 1) throw new Error(`secretlint exited with ${code}: ${stderr}`);
  const results = (stdout.trim() ? JSON.parse(stdout) : []) as SecretlintResult[];
  const findings = results.flatMap(({ filePath, messages }) =>
    messages.map(({ ruleId, message }) => `${path.relative(cwd, filePath)}: ${ruleId}: ${message}`),
  );
  return { code, findings };
}

async function trackedFiles(): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '-z'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\0').filter(Boolean);
}

describe('supply chain: npm audit of the production dependencies', function () {
  this.timeout(120_000);

  it('names each package with a high or critical finding, and only those', () => {
    const report: AuditReport = {
      vulnerabilities: {
        lodash: { name: 'lodash', severity: 'critical', range: '<4.17.21' },
        debug: { name: 'debug', severity: 'moderate' },
        'path-to-regexp': { name: 'path-to-regexp', severity: 'high', range: '<0.1.12' },
        ms: { name: 'ms', severity: 'low' },
      },
    };
    expect(blockingFindings(report)).to.deep.equal(['lodash (critical, <4.17.21)', 'path-to-regexp (high, <0.1.12)']);
    expect(blockingFindings({ vulnerabilities: {} })).to.deep.equal([]);
  });

  it('finds no high or critical vulnerability (npm audit --omit=dev)', async function () {
    const { stdout, stderr } = await capture('npm', ['audit', '--omit=dev', '--json']);
    const report = JSON.parse(stdout) as AuditReport;
    if (report.error !== undefined && report.vulnerabilities === undefined) {
      // The registry's advisory endpoint is a POST; machines that may only read the registry
      // (this project's own, see ENVIRONMENT.md) get 405 or no route. That is no verdict either way.
      console.warn(`      npm audit could not reach the advisory service: ${report.message ?? stderr.trim()}`);
      this.skip();
    }
    expect(report.vulnerabilities, 'an npm audit report').to.be.an('object');
    expect(blockingFindings(report), 'production dependencies with high or critical advisories').to.deep.equal([]);
  });
});

describe('supply chain: no secret in the repository (secretlint)', function () {
  this.timeout(120_000);

  it('finds no secret in any file git tracks, fake provider keys included', async () => {
    const files = await trackedFiles();
    expect(files, 'the Stripe fake (sk_test_ key) is scanned too').to.include('tools/fakes/stripe.fake.ts');
    const { code, findings } = await secretlint(files);
    expect(findings).to.deep.equal([]);
    expect(code).to.equal(0);
  });

  it('fails on a planted private key and live Stripe key', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'mart-planted-secret-'));
    try {
      // Made at run time so that no secret-shaped string is in this file.
      const { privateKey } = generateKeyPairSync('ec', {
        namedCurve: 'P-256',
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      const stripeKey = ['sk', 'live', randomBytes(18).toString('hex')].join('_');
      await fsp.writeFile(path.join(dir, 'id.pem'), privateKey);
      await fsp.writeFile(path.join(dir, 'config.ts'), `export const stripeSecretKey = '${stripeKey}';\n`);
      const { code, findings } = await secretlint(['id.pem', 'config.ts'], dir);
      expect(code).to.equal(1);
      expect(findings.some((finding) => finding.startsWith('id.pem:') && finding.includes('privatekey'))).to.equal(
        true,
        findings.join('\n'),
      );
      expect(findings.some((finding) => finding.startsWith('config.ts:') && finding.includes('stripe'))).to.equal(
        true,
        findings.join('\n'),
      );
      expect(findings.join('\n')).not.to.include(stripeKey);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the keys and settings generated at run time out of git', async () => {
    // Where tools/stack.ts writes the dev stack's JWT key pair, and the compose .env with its passwords.
    const generated = ['.mart/keys/jwt-private.pem', '.mart/keys/jwt-public.pem', '.env'];
    const { stdout } = await run('git', ['check-ignore', '--no-index', ...generated], { cwd: REPO_ROOT });
    expect(stdout.trim().split('\n')).to.deep.equal(generated);
    const tracked = await trackedFiles();
    expect(tracked.filter((file) => /\.(pem|key|p12|pfx)$/.test(file) || path.basename(file) === '.env')).to.deep.equal([]);
  });
});
