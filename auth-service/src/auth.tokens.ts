import { createHash, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Principal } from '@mart/common/http';
import type { PublicJwk, SigningKey } from './auth.keys.ts';
import type { AuthConfig } from './config.ts';

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

export interface NewRefreshToken {
  id: string;
  /** Goes to the client once; never stored, never logged. */
  token: string;
  /** What db-service stores and looks tokens up by. */
  hash: string;
  expiresAt: string;
}

/** Refresh tokens are looked up by their SHA-256: they are random, so no salt or slow hash is needed. */
export function refreshTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export type TokenIssuer = ReturnType<typeof tokenIssuer>;

/** The issuer's settings as configured. */
export function tokenSettings(config: AuthConfig): TokenSettings {
  return {
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
  };
}

/** Signs access tokens with the claims every service's TokenVerifier expects, and mints refresh tokens. */
export function tokenIssuer(key: SigningKey, settings: TokenSettings, now: () => Date = () => new Date()) {
  return {
    accessTtlSeconds: settings.accessTtlSeconds,

    accessToken(principal: Principal): string {
      const claims = { kind: principal.kind, email: principal.email, ...(principal.role ? { role: principal.role } : {}) };
      return jwt.sign(claims, key.privateKey, {
        algorithm: 'RS256',
        keyid: key.jwk.kid,
        subject: principal.sub,
        issuer: settings.issuer,
        audience: settings.audience,
        expiresIn: settings.accessTtlSeconds,
      });
    },

    newRefreshToken(): NewRefreshToken {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now().getTime() + settings.refreshTtlSeconds * 1000).toISOString();
      return { id: randomUUID(), token, hash: refreshTokenHash(token), expiresAt };
    },

    jwks(): { keys: PublicJwk[] } {
      return { keys: [key.jwk] };
    },
  };
}
