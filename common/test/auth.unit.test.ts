import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { ForbiddenError, UnauthorizedError } from '@mart/common/errors';
import { TokenVerifier, authorize, type Access, type Principal } from '@mart/common/http';
import { generateTestKeys, mintToken } from '../src/testing/index.ts';

describe('TokenVerifier', () => {
  const keys = generateTestKeys();
  const other = generateTestKeys();
  const verifier = new TokenVerifier({ publicKey: keys.publicKey, issuer: 'mart-auth', audience: 'mart' });
  const sub = '7d1c1c0e-1a52-4a3e-9d7e-0a7a3c4b5d6e';

  it('accepts a token signed by auth-service and returns the principal', () => {
    const token = mintToken(keys.privateKey, { sub, kind: 'user', role: 'admin', email: 'a@mart.test' });
    expect(verifier.verify(token)).to.deep.equal({ sub, kind: 'user', role: 'admin', email: 'a@mart.test' });
  });

  const forgeries: [string, () => string][] = [
    ['signed with another key', () => mintToken(other.privateKey, { sub, kind: 'user', role: 'admin' })],
    [
      'alg none',
      () =>
        jwt.sign({ kind: 'user', role: 'admin', email: 'x@y.z' }, '', {
          algorithm: 'none',
          subject: sub,
          issuer: 'mart-auth',
          audience: 'mart',
        }),
    ],
    // The classic key-confusion attack: HS256 "signed" with the public key as the secret.
    [
      'HS256 with the public key as secret',
      () => {
        const payload = mintToken(keys.privateKey, { sub, kind: 'user', role: 'admin' }).split('.')[1];
        const forgedHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
        const body = `${forgedHeader}.${payload}`;
        return `${body}.${createHmac('sha256', keys.publicKey).update(body).digest('base64url')}`;
      },
    ],
    ['expired', () => mintToken(keys.privateKey, { sub, kind: 'customer' }, { expiresIn: -10 })],
    ['wrong issuer', () => mintToken(keys.privateKey, { sub, kind: 'customer' }, { issuer: 'evil' })],
    ['wrong audience', () => mintToken(keys.privateKey, { sub, kind: 'customer' }, { audience: 'other' })],
    ['staff kind without a role', () => mintToken(keys.privateKey, { sub, kind: 'user' })],
    ['garbage', () => 'not.a.token'],
  ];
  for (const [name, forge] of forgeries) {
    it(`rejects a token ${name} with 401`, () => {
      expect(() => verifier.verify(forge())).to.throw(UnauthorizedError);
    });
  }

  it('rejects an Authorization header that is not a bearer token', () => {
    expect(() => verifier.fromHeader('Basic abc')).to.throw(UnauthorizedError);
    expect(verifier.fromHeader(undefined)).to.equal(undefined);
  });

  it('rejects every token when no public key is configured', () => {
    const unconfigured = new TokenVerifier({ publicKey: null, issuer: 'mart-auth', audience: 'mart' });
    expect(() => unconfigured.verify(mintToken(keys.privateKey, { kind: 'customer' }))).to.throw(UnauthorizedError);
  });
});

describe('authorize', () => {
  const principals: Record<string, Principal | undefined> = {
    anonymous: undefined,
    customer: { sub: 'c', kind: 'customer', email: 'c@x.io' },
    staff: { sub: 's', kind: 'user', role: 'staff', email: 's@x.io' },
    admin: { sub: 'a', kind: 'user', role: 'admin', email: 'a@x.io' },
  };
  // access rule → expected outcome for anonymous, customer, staff, admin
  const matrix: Record<Access, [string, string, string, string]> = {
    public: ['ok', 'ok', 'ok', 'ok'],
    authenticated: ['401', 'ok', 'ok', 'ok'],
    customer: ['401', 'ok', '403', '403'],
    staff: ['401', '403', 'ok', 'ok'],
    admin: ['401', '403', '403', 'ok'],
  };
  for (const [access, outcomes] of Object.entries(matrix) as [Access, string[]][]) {
    Object.keys(principals).forEach((who, index) => {
      it(`${access} route, ${who} → ${outcomes[index]}`, () => {
        const run = () => authorize(access, principals[who]);
        if (outcomes[index] === 'ok') expect(run).not.to.throw();
        else expect(run).to.throw(outcomes[index] === '401' ? UnauthorizedError : ForbiddenError);
      });
    });
  }
});
