import { randomBytes } from 'node:crypto';
import { hashPassword, loadConfig, runHttpService, stopOnSignals } from '@mart/common';
import { loadSigningKey } from './auth.keys.ts';
import { LoginLimiter } from './auth.limiter.ts';
import { acceptOAuthPasswordForm, documentOAuthPasswordFlow } from './auth.oauth.ts';
import { authRoutes } from './auth.routes.ts';
import { tokenIssuer } from './auth.tokens.ts';
import { authConfigSchema } from './config.ts';

const config = loadConfig(authConfigSchema);
const key = loadSigningKey(config);
const tokens = tokenIssuer(key, {
  issuer: config.AUTH_ISSUER,
  audience: config.AUTH_AUDIENCE,
  accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
});
const limiter = new LoginLimiter({
  maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
  maxFailuresPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
  windowSeconds: config.LOGIN_LIMIT_WINDOW_SECONDS,
});
const dummyHash = await hashPassword(randomBytes(16).toString('hex'), config.BCRYPT_COST);

const service = await runHttpService({
  service: 'auth-service',
  description: 'Logins, access and refresh tokens. Click Authorize and use customerLogin or staffLogin to try the API.',
  // auth-service verifies its own tokens with the public half of the key it signs with.
  config: { ...config, AUTH_PUBLIC_KEY: key.publicKeyPem, AUTH_PUBLIC_KEY_FILE: undefined },
  routes: (runtime) => authRoutes(runtime, { tokens, limiter, dummyHash }),
  beforeBodyParsing: (app) => {
    app.set('trust proxy', config.TRUST_PROXY);
    acceptOAuthPasswordForm(app);
  },
  amendOpenApi: documentOAuthPasswordFlow,
});
stopOnSignals(service, service.runtime.logger);
