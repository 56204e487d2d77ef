import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import jwt from 'jsonwebtoken';
import { createHttpApp } from '../http/app.ts';
import { TokenVerifier } from '../http/auth.ts';
import type { RouteDefinition } from '../http/route.ts';
import { createLogger } from '../logger.ts';
import type { Principal } from '../http/auth.ts';
import type { Clock } from '../alarm.ts';

// Helpers for Mart's test suites only; never imported by service code.

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

export function generateTestKeys(): KeyPair {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** The key pair the test runner generated for the stack under test. */
export function stackKeys(): KeyPair {
  const privateFile = process.env.AUTH_PRIVATE_KEY_FILE;
  const publicFile = process.env.AUTH_PUBLIC_KEY_FILE;
  if (!privateFile || !publicFile) throw new Error('AUTH_PRIVATE_KEY_FILE and AUTH_PUBLIC_KEY_FILE must be set (npm test sets them)');
  return { privateKey: readFileSync(privateFile, 'utf8'), publicKey: readFileSync(publicFile, 'utf8') };
}

/** Signs an access token the way auth-service does, for tests that need a principal. */
export function mintToken(
  privateKey: string,
  principal: Partial<Principal> & Pick<Principal, 'kind'>,
  options: jwt.SignOptions = {},
): string {
  const { sub = randomUUID(), kind, role, email = `${kind}-${sub.slice(0, 8)}@test.mart` } = principal;
  return jwt.sign({ kind, email, ...(role ? { role } : {}) }, privateKey, {
    algorithm: 'RS256',
    subject: sub,
    issuer: 'mart-auth',
    audience: 'mart',
    expiresIn: '15m',
    ...options,
  });
}

/** Base URL of a running service under test, from the runner's MART_URL_<SERVICE> variables. */
export function serviceUrl(service: string): string {
  const variable = `MART_URL_${service.toUpperCase().replace(/-/g, '_')}`;
  const url = process.env[variable];
  if (!url) throw new Error(`${variable} is not set: run the end-to-end suites through npm test`);
  return url;
}

/** The stack's first admin: user-service creates it from the same variables, with the same development defaults. */
export function adminCredentials(): { email: string; password: string } {
  return { email: process.env.ADMIN_EMAIL || 'admin@mart.local', password: process.env.ADMIN_PASSWORD || 'mart-admin-dev' };
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (npm test sets it)`);
  return value;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // Parsed JSON (or undefined for an empty body); tests assert on its shape.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A tiny JSON client for e2e tests: `api(base).call('POST', '/brands', { token, body })`. */
export function api(baseUrl: string) {
  return {
    async call(
      method: string,
      path: string,
      options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
    ): Promise<ApiResponse> {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
    },
  };
}

/**
 * A service's routes in the real HTTP edge (validation, access rules, error body), for unit
 * tests with a fake rpc; tokens minted with the matching private key are accepted.
 */
export function routeTestApp(routes: RouteDefinition[], publicKey: string): Express {
  return createHttpApp({
    service: 'test-service',
    logger: createLogger('test', 'silent'),
    verifier: new TokenVerifier({ publicKey, issuer: 'mart-auth', audience: 'mart' }),
    routes,
    readiness: async () => ({ ready: true, checks: {} }),
    jsonLimit: '100kb',
  });
}

/** A Clock for unit tests: time moves only when the test says, and due timers then fire in order. */
export class FakeClock implements Clock {
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;

  constructor(private time = Date.parse('2026-01-01T00:00:00.000Z')) {}

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time on by `ms`, firing each timer due on the way (and any they set that fall due too). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, timer]) => timer.at <= end).sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.timers.delete(id);
      this.time = Math.max(this.time, timer.at);
      timer.callback();
      // Let the work the timer started run before looking for the next due timer.
      for (let turn = 0; turn < 10; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.time = end;
  }
}

/**
 * Waits for what follows asynchronously (an event's effect, an email, an expiry): calls `check`
 * until it returns something other than undefined or false, and resolves with that. A check that
 * throws (a failed expect) is tried again; at the deadline its last error is thrown, or an error
 * naming `what`. The one polling wait of Mart's test suites.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Exclude<T, undefined | false>> {
  const { timeoutMs = 15_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    } catch (error) {
      failure = error;
    }
    if (Date.now() > deadline) throw failure ?? new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export * from './rpc.fake.ts';
export * from './kafka.ts';
