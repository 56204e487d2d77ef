import { randomBytes } from 'node:crypto';
import { loadConfig } from '@mart/common/config';
import { hashPassword } from '@mart/common/credentials';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { loadSigningKey } from './auth.keys.ts';
import { LoginLimiter, loginLimits } from './auth.limiter.ts';
import { acceptOAuthPasswordForm, documentOAuthPasswordFlow } from './auth.oauth.ts';
import { authRoutes } from './auth.routes.ts';
import { tokenIssuer, tokenSettings } from './auth.tokens.ts';
import { authConfigSchema } from './config.ts';

const config = loadConfig(authConfigSchema);
const key = loadSigningKey(config);
const tokens = tokenIssuer(key, tokenSettings(config));
const limiter = new LoginLimiter(loginLimits(config));
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
