import { randomUUID } from 'node:crypto';
import { verifyPassword } from '@mart/common/credentials';
import { UnauthorizedError } from '@mart/common/errors';
import type { Principal, PrincipalKind } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import type { Logger } from '@mart/common/logger';
import type { mart } from '@mart/proto';
import { principalKind } from '@mart/proto/enums';
import type { LoginLimiter } from './auth.limiter.ts';
import type { LoginBody, TokenPair } from './auth.schemas.ts';
import { refreshTokenHash, type TokenIssuer } from './auth.tokens.ts';

export interface AuthDependencies {
  rpc: RpcCaller;
  tokens: TokenIssuer;
  limiter: LoginLimiter;
  /** A bcrypt hash of a random password, with the accounts' cost: what unknown emails are checked against. */
  dummyHash: string;
  logger: Logger;
}

// One message for every way a login can fail, so the reply never tells which part was wrong.
const invalidCredentials = () => new UnauthorizedError('Invalid email or password');
const invalidRefreshToken = () => new UnauthorizedError('Invalid refresh token');

function principalOf(kind: PrincipalKind, sub: string, email: string, role: string): Principal {
  if (kind === 'customer') return { sub, kind, email };
  if (role !== 'admin' && role !== 'staff') throw new Error(`staff user ${sub} has no valid role`);
  return { sub, kind, email, role };
}

function kindOf(kind: mart.auth.PrincipalKind): PrincipalKind {
  return principalKind.lower.fromWireOrThrow(kind);
}

/** Login, refresh and logout: bcrypt and token signing here, credentials and token hashes in db-service. */
export function authService({ rpc, tokens, limiter, dummyHash, logger }: AuthDependencies) {
  async function authenticate(kind: PrincipalKind, { email, password }: LoginBody, requestId: string): Promise<Principal | undefined> {
    const credentials = await rpc.call('auth.get-credentials', { kind: principalKind.lower.toWire(kind), email }, { requestId });
    // An unknown email costs a bcrypt comparison too, so the response time does not tell whether it is registered.
    const matches = await verifyPassword(password, credentials.found ? credentials.passwordHash : dummyHash);
    if (!credentials.found || !matches) return undefined;
    return principalOf(kind, credentials.principalId, credentials.email, credentials.role);
  }

  async function startSession(principal: Principal, requestId: string): Promise<TokenPair> {
    const refresh = tokens.newRefreshToken();
    await rpc.call(
      'auth.issue-refresh-token',
      {
        id: refresh.id,
        familyId: randomUUID(),
        principalId: principal.sub,
        kind: principalKind.lower.toWire(principal.kind),
        tokenHash: refresh.hash,
        expiresAt: refresh.expiresAt,
      },
      { requestId },
    );
    return pair(principal, refresh.token);
  }

  function pair(principal: Principal, refreshToken: string): TokenPair {
    return { accessToken: tokens.accessToken(principal), refreshToken, tokenType: 'Bearer', expiresIn: tokens.accessTtlSeconds };
  }

  return {
    /** `kind` is the endpoint's: customers log in at /auth/login, staff at /auth/admin/login. */
    async login(kind: PrincipalKind, body: LoginBody, clientAddress: string, requestId: string): Promise<TokenPair> {
      const attempt = await limiter.begin(`${kind}:${body.email}`, clientAddress);
      let principal: Principal | undefined;
      try {
        principal = await authenticate(kind, body, requestId);
      } catch (error) {
        await attempt.abandoned();
        throw error;
      }
      if (!principal) throw invalidCredentials();
      await attempt.succeeded();
      return startSession(principal, requestId);
    },

    /** Rotation: the presented token is spent and a new one issued in the same family. */
    async refresh(refreshToken: string, requestId: string): Promise<TokenPair> {
      const next = tokens.newRefreshToken();
      const result = await rpc.call(
        'auth.rotate-refresh-token',
        { tokenHash: refreshTokenHash(refreshToken), newId: next.id, newTokenHash: next.hash, newExpiresAt: next.expiresAt },
        { requestId },
      );
      if (result.reuseDetected) {
        // Either the client retried, or someone else holds a copy of the token: both parties are signed out.
        logger.warn(
          { principalId: result.principalId, kind: kindOf(result.kind), requestId },
          'refresh token reused: its session is revoked',
        );
        throw invalidRefreshToken();
      }
      return pair(principalOf(kindOf(result.kind), result.principalId, result.email, result.role), next.token);
    },

    async logout(refreshToken: string, requestId: string): Promise<void> {
      await rpc.call('auth.revoke-refresh-token', { tokenHash: refreshTokenHash(refreshToken) }, { requestId });
    },
  };
}
