import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { ConfigError, loadConfig } from '@mart/common/config';
import { hashPassword } from '@mart/common/credentials';
import { UnavailableError, UnauthorizedError } from '@mart/common/errors';
import { TokenVerifier, createHttpApp } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { fakeRpc, generateTestKeys } from '@mart/common/testing';
import { mart, type CommandInput, type CommandResult } from '@mart/proto';
import { loadSigningKey } from '../src/auth.keys.ts';
import { LoginLimiter, loginLimits } from '../src/auth.limiter.ts';
import { acceptOAuthPasswordForm, documentOAuthPasswordFlow } from '../src/auth.oauth.ts';
import { authRoutes } from '../src/auth.routes.ts';
import { refreshTokenHash, tokenIssuer, tokenSettings } from '../src/auth.tokens.ts';
import { authConfigSchema } from '../src/config.ts';

const keys = generateTestKeys();
const customerId = '5d3b6a8e-2c1f-4e8a-9b7d-1a2b3c4d5e6f';
const adminId = '0b6f4a36-5b43-4d37-9d0f-6d0f7f1c2a11';
const { CUSTOMER, USER } = { CUSTOMER: mart.auth.PrincipalKind.PRINCIPAL_KIND_CUSTOMER, USER: mart.auth.PrincipalKind.PRINCIPAL_KIND_USER };

interface Account {
  id: string;
  kind: mart.auth.PrincipalKind;
  email: string;
  hash: string;
  role: string;
}

type Rotation = (request: CommandInput<'auth.rotate-refresh-token'>) => CommandResult<'auth.rotate-refresh-token'>;

/** db-service's side of the auth commands, in memory; `state.rotate` answers a refresh. */
function authDb(accounts: Account[]) {
  const state: { rotate: Rotation } = {
    rotate: () => {
      throw new UnauthorizedError('Invalid refresh token');
    },
  };
  const rpc = fakeRpc({
    'auth.get-credentials': (request) => {
      const account = accounts.find((a) => a.kind === request.kind && a.email === request.email);
      return account
        ? { found: true, principalId: account.id, email: account.email, passwordHash: account.hash, role: account.role }
        : { found: false, principalId: '', email: '', passwordHash: '', role: '' };
    },
    'auth.issue-refresh-token': () => ({}),
    'auth.rotate-refresh-token': (request) => state.rotate(request),
    'auth.revoke-refresh-token': () => ({}),
  });
  return { rpc, state };
}

function authApp(rpc: RpcCaller, env: Record<string, string> = {}) {
  const config = loadConfig(authConfigSchema, { AUTH_PRIVATE_KEY: keys.privateKey, BCRYPT_COST: '4', ...env });
  const key = loadSigningKey(config);
  const tokens = tokenIssuer(key, tokenSettings(config));
  const limiter = new LoginLimiter(loginLimits(config));
  const logger = createLogger('test', 'silent');
  return async () =>
    createHttpApp({
      service: 'auth-service',
      logger,
      verifier: new TokenVerifier({ publicKey: key.publicKeyPem, issuer: 'mart-auth', audience: 'mart' }),
      routes: authRoutes({ rpc, logger }, { tokens, limiter, dummyHash: await hashPassword('dummy password', config.BCRYPT_COST) }),
      readiness: async () => ({ ready: true, checks: {} }),
      jsonLimit: '100kb',
      beforeBodyParsing: acceptOAuthPasswordForm,
      amendOpenApi: documentOAuthPasswordFlow,
    });
}

describe('auth-service (fake rpc)', () => {
  let accounts: Account[];
  const verifier = new TokenVerifier({ publicKey: keys.publicKey, issuer: 'mart-auth', audience: 'mart' });

  before(async () => {
    accounts = [
      { id: customerId, kind: CUSTOMER, email: 'ada@example.com', hash: await hashPassword('correct horse', 4), role: '' },
      { id: adminId, kind: USER, email: 'admin@mart.local', hash: await hashPassword('admin password', 4), role: 'admin' },
    ];
  });

  describe('login', () => {
    it('issues an RS256 access token with the claims every service verifies, and a refresh token stored as a hash', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      const res = await request(app).post('/auth/admin/login').send({ email: ' Admin@Mart.LOCAL ', password: 'admin password' });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ tokenType: 'Bearer', expiresIn: 900 });
      expect(verifier.verify(res.body.accessToken)).to.deep.equal({ sub: adminId, kind: 'user', role: 'admin', email: 'admin@mart.local' });
      const claims = jwt.decode(res.body.accessToken, { complete: true })!;
      expect(claims.header).to.include({ alg: 'RS256' });
      expect(claims.payload).to.include({ iss: 'mart-auth', aud: 'mart' });
      const { iat, exp } = claims.payload as jwt.JwtPayload;
      expect(exp! - iat!).to.equal(900);

      expect(rpc.calls.map((c) => c.name)).to.deep.equal(['auth.get-credentials', 'auth.issue-refresh-token']);
      expect(rpc.calls[0]!.request).to.deep.equal({ kind: USER, email: 'admin@mart.local' });
      const [issued] = rpc.sent('auth.issue-refresh-token');
      expect(issued).to.include({ principalId: adminId, kind: USER, tokenHash: refreshTokenHash(res.body.refreshToken) });
      expect(JSON.stringify(issued)).not.to.include(res.body.refreshToken);
      expect(Date.parse(issued?.expiresAt ?? '') - Date.now()).to.be.closeTo(14 * 86_400_000, 60_000);
    });

    it('gives a customer a customer token, with no role, and only looks among customers', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      const res = await request(app).post('/auth/login').send({ email: 'ada@example.com', password: 'correct horse' });
      expect(res.status).to.equal(200);
      expect(verifier.verify(res.body.accessToken)).to.deep.equal({ sub: customerId, kind: 'customer', email: 'ada@example.com' });
      // A staff account's credentials do not open the customer door, nor the other way round.
      expect((await request(app).post('/auth/login').send({ email: 'admin@mart.local', password: 'admin password' })).status).to.equal(401);
      expect((await request(app).post('/auth/admin/login').send({ email: 'ada@example.com', password: 'correct horse' })).status).to.equal(
        401,
      );
      expect(rpc.sent('auth.get-credentials').map((sent) => sent.kind)).to.deep.equal([CUSTOMER, CUSTOMER, USER]);
    });

    it('answers a wrong password and an unknown email with the same 401 body', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      const wrongPassword = await request(app).post('/auth/login').send({ email: 'ada@example.com', password: 'wrong horse' });
      const unknownEmail = await request(app).post('/auth/login').send({ email: 'nobody@example.com', password: 'wrong horse' });
      expect(wrongPassword.status).to.equal(401);
      expect(unknownEmail.status).to.equal(401);
      expect({ ...wrongPassword.body, requestId: 'x' }).to.deep.equal({ ...unknownEmail.body, requestId: 'x' });
      expect(wrongPassword.body.error).to.deep.equal({ code: 'unauthorized', message: 'Invalid email or password', details: [] });
    });

    it('spends a bcrypt comparison on an unknown email too, so timing does not tell it apart', async () => {
      const slowAccounts = [{ ...accounts[0]!, hash: await hashPassword('correct horse', 10) }];
      const { rpc } = authDb(slowAccounts);
      const app = await authApp(rpc, { BCRYPT_COST: '10', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' })();
      const time = async (email: string) => {
        const started = performance.now();
        expect((await request(app).post('/auth/login').send({ email, password: 'wrong horse' })).status).to.equal(401);
        return performance.now() - started;
      };
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
      const known = median([await time('ada@example.com'), await time('ada@example.com'), await time('ada@example.com')]);
      const unknown = median([await time('nobody@example.com'), await time('nobody@example.com'), await time('nobody@example.com')]);
      // Without the dummy comparison an unknown email answers in about a millisecond, against tens for a known one.
      expect(unknown / known).to.be.within(0.5, 2);
    });

    it('rejects a bad body with 400 naming each field', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      const res = await request(app).post('/auth/login').send({ email: 'not-an-email', extra: 1 });
      expect(res.status).to.equal(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal(['email', 'extra', 'password']);
      expect(rpc.calls).to.have.length(0);
    });
  });

  describe('OAuth2 password form', () => {
    it('logs in with username and password, answering with the RFC 6749 names as well', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      const res = await request(app)
        .post('/auth/login')
        .type('form')
        // What Swagger UI's Authorize sends by default, client credentials as HTTP Basic included.
        .set('authorization', `Basic ${Buffer.from(':').toString('base64')}`)
        .send({ grant_type: 'password', username: 'ada@example.com', password: 'correct horse', scope: '' });
      expect(res.status).to.equal(200);
      expect(res.body.access_token).to.equal(res.body.accessToken);
      expect(res.body).to.include({ token_type: 'Bearer', expires_in: 900, refresh_token: res.body.refreshToken });
      expect(verifier.verify(res.body.access_token).sub).to.equal(customerId);
    });

    it('names the bad form fields in a 400', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      const res = await request(app).post('/auth/admin/login').type('form').send({ grant_type: 'client_credentials', password: 'x' });
      expect(res.status).to.equal(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal(['grant_type', 'username']);
    });

    it('declares both login endpoints as OAuth2 password flows in the OpenAPI document', async () => {
      const { rpc } = authDb(accounts);
      const doc = (await request(await authApp(rpc)()).get('/openapi.json')).body;
      expect(doc.components.securitySchemes.customerLogin.flows.password.tokenUrl).to.equal('/auth/login');
      expect(doc.components.securitySchemes.staffLogin.flows.password.tokenUrl).to.equal('/auth/admin/login');
      const form = doc.paths['/auth/admin/login'].post.requestBody.content['application/x-www-form-urlencoded'].schema;
      expect(form.required).to.have.members(['username', 'password']);
      expect(doc.paths['/auth/me'].get.security).to.deep.include({ staffLogin: [] });
      expect(doc.paths['/auth/login'].post.security).to.deep.equal([]);
    });
  });

  describe('rate limits', () => {
    it('locks an account after 5 failures, even for the right password, and tells when to retry', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      for (let i = 0; i < 5; i++) {
        expect(
          (
            await request(app)
              .post('/auth/login')
              .send({ email: 'ada@example.com', password: `guess ${i}` })
          ).status,
        ).to.equal(401);
      }
      const locked = await request(app).post('/auth/login').send({ email: 'ada@example.com', password: 'correct horse' });
      expect(locked.status).to.equal(429);
      expect(locked.body.error.code).to.equal('rate_limited');
      expect(Number(locked.headers['retry-after'])).to.be.within(890, 900);
      expect(rpc.sent('auth.get-credentials')).to.have.length(5);
      // Another account from the same address is not affected.
      expect(
        (await request(app).post('/auth/admin/login').send({ email: 'admin@mart.local', password: 'admin password' })).status,
      ).to.equal(200);
    });

    it('forgives an account its failures once it logs in', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      const attempt = (password: string) => request(app).post('/auth/login').send({ email: 'ada@example.com', password });
      for (let i = 0; i < 4; i++) expect((await attempt('nope nope')).status).to.equal(401);
      expect((await attempt('correct horse')).status).to.equal(200);
      for (let i = 0; i < 4; i++) expect((await attempt('nope nope')).status).to.equal(401);
    });

    it('limits failures per client address across accounts', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc, { LOGIN_MAX_FAILURES_PER_ADDRESS: '3' })();
      for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) {
        expect((await request(app).post('/auth/login').send({ email, password: 'guess' })).status).to.equal(401);
      }
      expect((await request(app).post('/auth/login').send({ email: 'd@example.com', password: 'guess' })).status).to.equal(429);
      expect((await request(app).post('/auth/login').send({ email: 'ada@example.com', password: 'correct horse' })).status).to.equal(429);
    });

    it('does not count attempts that failed for want of db-service', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      rpc.failWith = new UnavailableError('Kafka is unavailable');
      for (let i = 0; i < 6; i++) {
        expect((await request(app).post('/auth/login').send({ email: 'ada@example.com', password: 'correct horse' })).status).to.equal(503);
      }
      rpc.failWith = undefined;
      expect((await request(app).post('/auth/login').send({ email: 'ada@example.com', password: 'correct horse' })).status).to.equal(200);
    });
  });

  describe('refresh and logout', () => {
    it('rotates: sends only hashes, and signs the new access token with the principal db-service returns', async () => {
      const { rpc, state } = authDb(accounts);
      state.rotate = () => ({ principalId: adminId, kind: USER, email: 'admin@mart.local', role: 'staff', reuseDetected: false });
      const app = await authApp(rpc)();
      const res = await request(app).post('/auth/refresh').send({ refreshToken: 'old-token' });
      expect(res.status).to.equal(200);
      // The role is the one stored now (demoted since login), not the one in the old token.
      expect(verifier.verify(res.body.accessToken)).to.deep.equal({ sub: adminId, kind: 'user', role: 'staff', email: 'admin@mart.local' });
      expect(rpc.calls.map((c) => c.name)).to.deep.equal(['auth.rotate-refresh-token']);
      const [sent] = rpc.sent('auth.rotate-refresh-token');
      expect(sent?.tokenHash).to.equal(refreshTokenHash('old-token'));
      expect(sent?.newTokenHash).to.equal(refreshTokenHash(res.body.refreshToken));
      expect(JSON.stringify(sent)).not.to.include(res.body.refreshToken);
      expect(res.body.refreshToken).not.to.equal('old-token');
    });

    it('answers a reused token with the same 401 as any invalid one', async () => {
      const { rpc, state } = authDb(accounts);
      const app = await authApp(rpc)();
      const invalid = await request(app).post('/auth/refresh').send({ refreshToken: 'unknown' });
      state.rotate = () => ({ principalId: customerId, kind: CUSTOMER, email: '', role: '', reuseDetected: true });
      const reused = await request(app).post('/auth/refresh').send({ refreshToken: 'rotated-already' });
      expect(reused.status).to.equal(401);
      expect(reused.body.error).to.deep.equal(invalid.body.error);
    });

    it('logs out by revoking the hash of the token, with 204', async () => {
      const { rpc } = authDb(accounts);
      const res = await request(await authApp(rpc)())
        .post('/auth/logout')
        .send({ refreshToken: 'some-token' });
      expect(res.status).to.equal(204);
      expect(rpc.calls.map(({ name, request }) => ({ name, request }))).to.deep.equal([
        { name: 'auth.revoke-refresh-token', request: { tokenHash: refreshTokenHash('some-token') } },
      ]);
    });
  });

  describe('me and JWKS', () => {
    it('publishes the public key as a JWK whose kid is in every token header', async () => {
      const { rpc } = authDb(accounts);
      const app = await authApp(rpc)();
      const jwks = (await request(app).get('/auth/.well-known/jwks.json')).body as { keys: (Record<string, string> & { kid: string })[] };
      expect(jwks.keys).to.have.length(1);
      const [jwk] = jwks.keys;
      expect(jwk).to.include({ kty: 'RSA', use: 'sig', alg: 'RS256' });
      expect(jwk).not.to.have.property('d');
      const login = await request(app).post('/auth/login').send({ email: 'ada@example.com', password: 'correct horse' });
      expect(jwt.decode(login.body.accessToken, { complete: true })!.header.kid).to.equal(jwk!.kid);
      const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
      expect(() => jwt.verify(login.body.accessToken, publicKey, { algorithms: ['RS256'] })).not.to.throw();

      const me = await request(app).get('/auth/me').set('authorization', `Bearer ${login.body.accessToken}`);
      expect(me.body).to.deep.equal({ sub: customerId, kind: 'customer', email: 'ada@example.com' });
      expect((await request(app).get('/auth/me')).status).to.equal(401);
    });
  });

  describe('configuration', () => {
    it('requires a signing key, naming the variable', () => {
      expect(() => loadConfig(authConfigSchema, {})).to.throw(ConfigError, /AUTH_PRIVATE_KEY/);
    });

    it('refuses a public key that is not the private key’s other half', () => {
      const config = loadConfig(authConfigSchema, { AUTH_PRIVATE_KEY: keys.privateKey, AUTH_PUBLIC_KEY: generateTestKeys().publicKey });
      expect(() => loadSigningKey(config)).to.throw(ConfigError, /AUTH_PUBLIC_KEY/);
    });

    it('refuses a key RS256 cannot use', () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(() => loadSigningKey(loadConfig(authConfigSchema, { AUTH_PRIVATE_KEY: ec }))).to.throw(ConfigError, /RSA/);
      expect(() => loadSigningKey(loadConfig(authConfigSchema, { AUTH_PRIVATE_KEY: 'garbage' }))).to.throw(ConfigError, /AUTH_PRIVATE_KEY/);
    });
  });
});
