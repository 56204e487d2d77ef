import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '@mart/common/errors';
import type { AuthConfig } from './config.ts';

export class LoginRateLimitedError extends RateLimitedError {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many login attempts; try again later');
  }
}

export interface LoginLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
}

/** One login attempt's reservation, settled once its outcome is known. */
export interface LoginAttempt {
  /** The password was right: the account's failures are forgiven and the address gets its point back. */
  succeeded(): Promise<void>;
  /** Nothing was learnt (db-service unavailable, say): both points are given back. */
  abandoned(): Promise<void>;
}

/**
 * Brute-force protection for both login endpoints: failed logins are counted per account and per
 * client address in a fixed window; past either limit the answer is 429 until the window ends.
 * Every attempt reserves its points before the password is checked, so a burst of parallel
 * guesses cannot slip through while bcrypt runs; a failed attempt simply keeps them.
 *
 * The counters live in this process's memory (rate-limiter-flexible's memory store), so the limits
 * are per auth-service instance: N instances allow N times as many guesses. A shared store (its
 * Postgres or Redis limiter) would make them global.
 */
/** The login limits as configured. */
export function loginLimits(config: AuthConfig): LoginLimits {
  return {
    maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxFailuresPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
    windowSeconds: config.LOGIN_LIMIT_WINDOW_SECONDS,
  };
}

export class LoginLimiter {
  private readonly byAccount: RateLimiterMemory;
  private readonly byAddress: RateLimiterMemory;

  constructor(limits: LoginLimits) {
    this.byAccount = new RateLimiterMemory({
      keyPrefix: 'login-account',
      points: limits.maxFailuresPerAccount,
      duration: limits.windowSeconds,
    });
    this.byAddress = new RateLimiterMemory({
      keyPrefix: 'login-address',
      points: limits.maxFailuresPerAddress,
      duration: limits.windowSeconds,
    });
  }

  async begin(account: string, address: string): Promise<LoginAttempt> {
    // The address first: an address over its limit cannot lock anyone's account any further.
    await reserve(this.byAddress, address);
    await reserve(this.byAccount, account);
    return {
      succeeded: async () => {
        await Promise.all([this.byAccount.delete(account), this.byAddress.reward(address, 1)]);
      },
      abandoned: async () => {
        await Promise.all([this.byAccount.reward(account, 1), this.byAddress.reward(address, 1)]);
      },
    };
  }
}

async function reserve(limiter: RateLimiterMemory, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw new LoginRateLimitedError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    throw rejection;
  }
}
