import { email, givenPassword } from '@mart/common/domain/account';
import { z } from '@mart/common/zod';

export const loginBody = z.object({ email, password: givenPassword }).strict().openapi('Login');

/** The OAuth2 password grant's form (RFC 6749 §4.3.2); client_id, scope and the like are ignored. */
export const oauthPasswordForm = z.object({
  grant_type: z.literal('password').optional(),
  username: email,
  password: givenPassword,
});

export const refreshBody = z
  .object({ refreshToken: z.string().min(1).max(512) })
  .strict()
  .openapi('RefreshToken');

export const tokenPairSchema = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().openapi({ description: 'seconds until the access token expires' }),
    // RFC 6749 §5.1 names, so OAuth2 clients such as Swagger UI's Authorize can read the reply.
    access_token: z.string().optional().openapi({ description: 'only in replies to the form-encoded (OAuth2) request' }),
    refresh_token: z.string().optional(),
    token_type: z.literal('Bearer').optional(),
    expires_in: z.number().int().optional(),
  })
  .openapi('TokenPair');

export const meSchema = z
  .object({
    sub: z.string(),
    kind: z.enum(['customer', 'user']),
    role: z.enum(['admin', 'staff']).optional(),
    email: z.string(),
  })
  .openapi('Me');

export const jwksSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal('RSA'),
        n: z.string(),
        e: z.string(),
        kid: z.string(),
        use: z.literal('sig'),
        alg: z.literal('RS256'),
      }),
    ),
  })
  .openapi('Jwks');

export type LoginBody = z.infer<typeof loginBody>;
export type TokenPair = z.infer<typeof tokenPairSchema>;
