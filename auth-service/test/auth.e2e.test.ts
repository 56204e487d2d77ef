import { createPublicKey, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { adminCredentials, api, serviceUrl } from '@mart/common/testing';

// Drives auth-service, customer-service, user-service and brand-service over HTTP, with tokens
// that auth-service really issued: HTTP → Kafka → db-service → PostgreSQL and back.
describe('identity end to end: logins, sessions and tokens', () => {
  const auth = api(serviceUrl('auth-service'));
  const customers = api(serviceUrl('customer-service'));
  const users = api(serviceUrl('user-service'));
  const brands = api(serviceUrl('brand-service'));
  const run = randomUUID().slice(0, 8);
  const password = 'correct horse battery';

  async function register(tag: string) {
    const email = `${tag}-${run}@example.com`;
    const created = await customers.call('POST', '/customers', { body: { email, password, name: `Customer ${tag}` } });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return { id: created.body.id as string, email };
  }

  async function adminToken(): Promise<string> {
    const login = await auth.call('POST', '/auth/admin/login', { body: adminCredentials() });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    return login.body.accessToken;
  }

  it('registers, logs in, reads /me, rotates the refresh token, revokes the family on reuse, and logs out', async () => {
    const { id, email } = await register('flow');

    const login = await auth.call('POST', '/auth/login', { body: { email: email.toUpperCase(), password } });
    expect(login.status).to.equal(200);
    expect(login.body).to.include({ tokenType: 'Bearer', expiresIn: 900 });
    const me = await auth.call('GET', '/auth/me', { token: login.body.accessToken });
    expect(me.body).to.deep.equal({ sub: id, kind: 'customer', email });
    expect((await customers.call('GET', '/customers/me', { token: login.body.accessToken })).body.id).to.equal(id);

    const first = login.body.refreshToken as string;
    const refreshed = await auth.call('POST', '/auth/refresh', { body: { refreshToken: first } });
    expect(refreshed.status).to.equal(200);
    const second = refreshed.body.refreshToken as string;
    expect(second).not.to.equal(first);
    expect((await auth.call('GET', '/auth/me', { token: refreshed.body.accessToken })).body.sub).to.equal(id);

    // The old token is spent; presenting it again is reuse, which ends the session for everyone.
    const reused = await auth.call('POST', '/auth/refresh', { body: { refreshToken: first } });
    expect(reused.status).to.equal(401);
    expect(reused.body.error.code).to.equal('unauthorized');
    expect((await auth.call('POST', '/auth/refresh', { body: { refreshToken: second } })).status).to.equal(401);

    const again = await auth.call('POST', '/auth/login', { body: { email, password } });
    expect(again.status).to.equal(200);
    const logout = await auth.call('POST', '/auth/logout', { body: { refreshToken: again.body.refreshToken } });
    expect(logout.status).to.equal(204);
    expect((await auth.call('POST', '/auth/refresh', { body: { refreshToken: again.body.refreshToken } })).status).to.equal(401);
    expect((await auth.call('POST', '/auth/logout', { body: { refreshToken: again.body.refreshToken } })).status).to.equal(204);
  });

  it('lets only one of two concurrent refreshes of a token through, and then ends the session', async () => {
    const { email } = await register('race');
    const login = await auth.call('POST', '/auth/login', { body: { email, password } });
    const refreshToken = login.body.refreshToken as string;
    const results = await Promise.all([
      auth.call('POST', '/auth/refresh', { body: { refreshToken } }),
      auth.call('POST', '/auth/refresh', { body: { refreshToken } }),
    ]);
    expect(results.map((r) => r.status).sort()).to.deep.equal([200, 401]);
    const winner = results.find((r) => r.status === 200)!;
    expect((await auth.call('POST', '/auth/refresh', { body: { refreshToken: winner.body.refreshToken } })).status).to.equal(401);
  });

  it('answers a wrong password and an unknown email with the same 401', async () => {
    const { email } = await register('wrong');
    const wrongPassword = await auth.call('POST', '/auth/login', { body: { email, password: 'not the password' } });
    const unknownEmail = await auth.call('POST', '/auth/login', { body: { email: `nobody-${run}@example.com`, password } });
    expect(wrongPassword.status).to.equal(401);
    expect(unknownEmail.status).to.equal(401);
    expect(wrongPassword.body.error).to.deep.equal(unknownEmail.body.error);
    // A customer's credentials do not open the staff login.
    expect((await auth.call('POST', '/auth/admin/login', { body: { email, password } })).status).to.equal(401);
  });

  it('rate-limits failed logins per account with 429 rate_limited, leaving other accounts alone', async () => {
    const victim = await register('limited');
    const bystander = await register('bystander');
    for (let i = 0; i < 5; i++) {
      expect((await auth.call('POST', '/auth/login', { body: { email: victim.email, password: `guess number ${i}` } })).status).to.equal(
        401,
      );
    }
    const limited = await auth.call('POST', '/auth/login', { body: { email: victim.email, password } });
    expect(limited.status).to.equal(429);
    expect(limited.body.error).to.include({ code: 'rate_limited' });
    expect(limited.body.requestId).to.be.a('string');
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 900);
    expect((await auth.call('POST', '/auth/login', { body: { email: bystander.email, password } })).status).to.equal(200);
  });

  it('logs in with the OAuth2 password form, as Swagger UI does', async () => {
    const { email } = await register('form');
    // What Swagger UI's Authorize sends by default: a form, and an empty client id as HTTP Basic.
    const postForm = (path: string, form: Record<string, string>) =>
      fetch(`${serviceUrl('auth-service')}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(':').toString('base64')}` },
        body: new URLSearchParams(form).toString(),
      });
    const login = await postForm('/auth/login', { grant_type: 'password', username: email, password, scope: '' });
    expect(login.status).to.equal(200);
    const pair = (await login.json()) as Record<string, string>;
    expect(pair).to.include({ token_type: 'Bearer', access_token: pair.accessToken });
    const staff = (await (
      await postForm('/auth/admin/login', { username: adminCredentials().email, password: adminCredentials().password })
    ).json()) as Record<string, string>;
    expect((await auth.call('GET', '/auth/me', { token: staff.access_token })).body).to.include({ kind: 'user', role: 'admin' });
  });

  it('signs tokens that the published JWKS key verifies, with the claims of the contract', async () => {
    const token = await adminToken();
    const jwks = await auth.call('GET', '/auth/.well-known/jwks.json');
    expect(jwks.status).to.equal(200);
    const { header } = jwt.decode(token, { complete: true })!;
    const jwk = (jwks.body.keys as { kid: string }[]).find((key) => key.kid === header.kid);
    expect(jwk, 'a JWK with the token’s kid').to.not.equal(undefined);
    const claims = jwt.verify(token, createPublicKey({ key: jwk as never, format: 'jwk' }), { algorithms: ['RS256'] }) as jwt.JwtPayload;
    expect(claims).to.include({ kind: 'user', role: 'admin', email: adminCredentials().email, iss: 'mart-auth', aud: 'mart' });
    expect(claims.exp! - claims.iat!).to.equal(900);
  });

  it('gives brand-service a staff token it accepts for writes, and a customer token it refuses', async () => {
    const staffEmail = `brand-staff-${run}@mart.test`;
    const created = await users.call('POST', '/users', {
      token: await adminToken(),
      body: { email: staffEmail, name: 'Brand Staff', password, role: 'staff' },
    });
    expect(created.status).to.equal(201);
    const staff = await auth.call('POST', '/auth/admin/login', { body: { email: staffEmail, password } });
    expect(staff.status).to.equal(200);
    const brand = await brands.call('POST', '/brands', { token: staff.body.accessToken, body: { name: `Real token ${run}` } });
    expect(brand.status).to.equal(201);
    expect((await brands.call('DELETE', `/brands/${brand.body.id}`, { token: staff.body.accessToken })).status).to.equal(204);

    const { email } = await register('brand');
    const customer = await auth.call('POST', '/auth/login', { body: { email, password } });
    expect((await brands.call('POST', '/brands', { token: customer.body.accessToken, body: { name: `Nope ${run}` } })).status).to.equal(
      403,
    );
  });

  it('rejects bad bodies with 400 naming the field', async () => {
    const login = await auth.call('POST', '/auth/login', { body: { email: 'not-an-email' } });
    expect(login.status).to.equal(400);
    expect(login.body.error.details.map((d: { path: string }) => d.path).sort()).to.deep.equal(['email', 'password']);
    const refresh = await auth.call('POST', '/auth/refresh', { body: {} });
    expect(refresh.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['refreshToken']);
  });

  it('serves health, readiness, metrics and its OpenAPI document with the OAuth2 password flows', async () => {
    const base = serviceUrl('auth-service');
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    expect((await fetch(`${base}/ready`)).status).to.equal(200);
    expect(await (await fetch(`${base}/metrics`)).text()).to.match(
      /mart_rpc_duration_seconds_count\{command="auth.get-credentials",outcome="ok"\} [1-9]/,
    );
    const doc = (await auth.call('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths)).to.include.members(['/auth/login', '/auth/admin/login', '/auth/refresh', '/auth/logout', '/auth/me']);
    expect(doc.components.securitySchemes.staffLogin.flows.password.tokenUrl).to.equal('/auth/admin/login');
    expect((await fetch(`${base}/docs/`)).status).to.equal(200);
  });
});
