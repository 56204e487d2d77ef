import express, { type Express } from 'express';
import { ValidationError } from '@mart/common/errors';
import type { OpenApiDocument } from '@mart/common/http';
import { z } from '@mart/common/zod';
import { oauthPasswordForm, type TokenPair } from './auth.schemas.ts';

// The OAuth2 password grant on the login endpoints, so Swagger UI's Authorize button (and any
// OAuth2 client) can sign in: a form-encoded request, and a reply with the RFC 6749 names.

const loginPaths = { customer: '/auth/login', user: '/auth/admin/login' } as const;
const formType = 'application/x-www-form-urlencoded';

/** Parses the form into the JSON body the login routes validate; mounted before the JSON parser. */
export function acceptOAuthPasswordForm(app: Express): void {
  app.use(Object.values(loginPaths), express.urlencoded({ extended: false, limit: '10kb' }), (req, _res, next) => {
    // OAuth2 clients may send their client id as HTTP Basic; Mart registers no clients, and read
    // as a bearer token it would turn the login into a 401.
    if (/^basic\s/i.test(req.headers.authorization ?? '')) delete req.headers.authorization;
    if (!req.is(formType)) return next();
    const form = oauthPasswordForm.safeParse(req.body);
    if (!form.success) {
      throw new ValidationError(
        form.error.issues.map((issue) => ({ path: issue.path.join('.') || 'body', message: issue.message, location: 'body' })),
      );
    }
    req.body = { email: form.data.username, password: form.data.password };
    next();
  });
}

export function isOAuthForm(req: express.Request): boolean {
  return req.is(formType) === formType;
}

export function withOAuthNames(pair: TokenPair): TokenPair {
  return { ...pair, access_token: pair.accessToken, refresh_token: pair.refreshToken, token_type: 'Bearer', expires_in: pair.expiresIn };
}

/** Declares the form bodies and one OAuth2 password-flow scheme per login endpoint. */
export function documentOAuthPasswordFlow(document: OpenApiDocument): void {
  const { $schema: _, ...formSchema } = z.toJSONSchema(oauthPasswordForm, { io: 'input' });
  const schemes = { customerLogin: loginPaths.customer, staffLogin: loginPaths.user };
  document.components ??= {};
  document.components.securitySchemes ??= {};
  for (const [name, tokenUrl] of Object.entries(schemes)) {
    document.components.securitySchemes[name] = {
      type: 'oauth2',
      description: `Signs in at ${tokenUrl} with email and password; leave client id and secret empty.`,
      flows: { password: { tokenUrl, scopes: {} } },
    };
  }
  for (const path of Object.values(loginPaths)) {
    const body = document.paths?.[path]?.post?.requestBody;
    if (body && 'content' in body) body.content[formType] = { schema: formSchema as Record<string, unknown> };
  }
  // Protected operations accept a token from either flow as well as a pasted bearer token.
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of [item.get, item.post, item.put, item.patch, item.delete]) {
      if (operation?.security?.length)
        operation.security = [...operation.security, ...Object.keys(schemes).map((name) => ({ [name]: [] }))];
    }
  }
}
