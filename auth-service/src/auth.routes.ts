import type { Request, Response } from 'express';
import { UnauthorizedError } from '@mart/common/errors';
import { defineRoute, type PrincipalKind, type RouteDefinition } from '@mart/common/http';
import type { ServiceRuntime } from '@mart/common/service';
import { LoginRateLimitedError, type LoginLimiter } from './auth.limiter.ts';
import { isOAuthForm, withOAuthNames } from './auth.oauth.ts';
import { jwksSchema, loginBody, meSchema, refreshBody, tokenPairSchema, type LoginBody } from './auth.schemas.ts';
import { authService } from './auth.service.ts';
import type { TokenIssuer } from './auth.tokens.ts';

export interface AuthRouteDependencies {
  tokens: TokenIssuer;
  limiter: LoginLimiter;
  dummyHash: string;
}

export function authRoutes({ rpc, logger }: Pick<ServiceRuntime, 'rpc' | 'logger'>, deps: AuthRouteDependencies): RouteDefinition[] {
  const auth = authService({ rpc, logger, ...deps });
  const tags = ['auth'];

  async function login(kind: PrincipalKind, body: LoginBody, req: Request, res: Response, requestId: string) {
    try {
      const pair = await auth.login(kind, body, req.ip ?? req.socket.remoteAddress ?? 'unknown', requestId);
      return isOAuthForm(req) ? withOAuthNames(pair) : pair;
    } catch (error) {
      if (error instanceof LoginRateLimitedError) res.setHeader('retry-after', String(error.retryAfterSeconds));
      throw error;
    }
  }

  const loginRoute = (kind: PrincipalKind, path: string, who: string) =>
    defineRoute({
      method: 'post',
      path,
      summary: `Log in as a ${who} with email and password (JSON, or the OAuth2 password form with username)`,
      tags,
      access: 'public',
      body: loginBody,
      status: 200,
      response: tokenPairSchema,
      errors: [401, 429],
      handler: ({ body, req, res, requestId }) => login(kind, body, req, res, requestId),
    });

  return [
    loginRoute('customer', '/auth/login', 'customer'),
    loginRoute('user', '/auth/admin/login', 'staff user'),
    defineRoute({
      method: 'post',
      path: '/auth/refresh',
      summary: 'Trade a refresh token for a new pair; the old one stops working, and using it again ends the session',
      tags,
      access: 'public',
      body: refreshBody,
      status: 200,
      response: tokenPairSchema,
      errors: [401],
      handler: ({ body, requestId }) => auth.refresh(body.refreshToken, requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/auth/logout',
      summary: "End the refresh token's session",
      tags,
      access: 'public',
      body: refreshBody,
      status: 204,
      handler: ({ body, requestId }) => auth.logout(body.refreshToken, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/auth/me',
      summary: 'Who the access token belongs to',
      tags,
      access: 'authenticated',
      status: 200,
      response: meSchema,
      handler: async ({ principal }) => {
        if (!principal) throw new UnauthorizedError();
        return principal;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/auth/.well-known/jwks.json',
      summary: 'The public keys that verify access tokens (JWKS)',
      tags,
      access: 'public',
      status: 200,
      response: jwksSchema,
      handler: async ({ res }) => {
        res.setHeader('cache-control', 'public, max-age=300');
        return deps.tokens.jwks();
      },
    }),
  ];
}
