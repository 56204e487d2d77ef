import { createHmac, createPublicKey, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { adminCredentials, generateTestKeys, api, mintToken, serviceUrl, stackKeys } from '@mart/common/testing';

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

// What an attacker can build from public material or an expired token, thrown at the running
// services; each must answer 401 where a genuine admin token succeeds.
describe('forged access tokens against running services', () => {
  const auth = api(serviceUrl('auth-service'));
  const targets = [
    { name: 'auth-service GET /auth/me', call: (token: string) => auth.call('GET', '/auth/me', { token }) },
    { name: 'user-service GET /users', call: (token: string) => api(serviceUrl('user-service')).call('GET', '/users', { token }) },
    {
      name: 'customer-service GET /customers',
      call: (token: string) => api(serviceUrl('customer-service')).call('GET', '/customers', { token }),
    },
    {
      name: 'brand-service POST /brands',
      call: (token: string) =>
        api(serviceUrl('brand-service')).call('POST', '/brands', { token, body: { name: `Forged ${randomUUID()}` } }),
    },
  ];
  const admin = { kind: 'user' as const, role: 'admin' as const };
  const forgeries: Record<string, string> = {};
  let genuine: string;

  before(async () => {
    const login = await auth.call('POST', '/auth/admin/login', { body: adminCredentials() });
    genuine = login.body.accessToken;
    const { sub, email } = (await auth.call('GET', '/auth/me', { token: genuine })).body as { sub: string; email: string };
    const { kid } = jwt.decode(genuine, { complete: true })!.header;
    // The attacker's view of the signing key: the published JWKS.
    const jwk = (await auth.call('GET', '/auth/.well-known/jwks.json')).body.keys[0];
    const publicPem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const realKey = stackKeys().privateKey;
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub, email, ...admin, iss: 'mart-auth', aud: 'mart', iat: now, exp: now + 600 };

    forgeries['signed with another key, under the real kid'] = mintToken(
      generateTestKeys().privateKey,
      { sub, email, ...admin },
      { keyid: kid },
    );
    forgeries['alg none'] = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
    const hs256 = `${base64url({ alg: 'HS256', typ: 'JWT', kid })}.${base64url(claims)}`;
    forgeries['HS256 signed with the public key'] = `${hs256}.${createHmac('sha256', publicPem).update(hs256).digest('base64url')}`;
    forgeries['expired'] = mintToken(realKey, { sub, email, ...admin }, { expiresIn: -60 });
    forgeries['wrong issuer'] = mintToken(realKey, { sub, email, ...admin }, { issuer: 'evil-auth' });
    forgeries['wrong audience'] = mintToken(realKey, { sub, email, ...admin }, { audience: 'other-app' });
    const [header, , signature] = genuine.split('.');
    forgeries['a genuine token with an edited payload'] = `${header}.${base64url({ ...claims, sub: randomUUID() })}.${signature}`;
  });

  for (const target of targets) {
    it(`${target.name}: the genuine admin token is accepted`, async () => {
      expect((await target.call(genuine)).status).to.be.oneOf([200, 201]);
    });

    it(`${target.name}: every forgery is rejected with 401 unauthorized`, async () => {
      expect(Object.keys(forgeries)).to.have.length(7);
      for (const [forgery, token] of Object.entries(forgeries)) {
        const res = await target.call(token);
        expect(res.status, forgery).to.equal(401);
        expect(res.body.error.code, forgery).to.equal('unauthorized');
      }
    });
  }
});
