import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError, readKey } from '@mart/common/config';
import type { AuthConfig } from './config.ts';

export interface PublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  use: 'sig';
  alg: 'RS256';
}

export interface SigningKey {
  privateKey: KeyObject;
  /** What every service verifies access tokens with. */
  publicKeyPem: string;
  jwk: PublicJwk;
}

function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new ConfigError(`AUTH_PRIVATE_KEY: not a PEM private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new ConfigError(`AUTH_PRIVATE_KEY: RS256 needs an RSA key, not ${key.asymmetricKeyType}`);
  return key;
}

/**
 * Loads the signing key and derives its public half. A configured public key must be that half:
 * otherwise every other service would reject every token, which is better found at start-up.
 */
export function loadSigningKey(config: AuthConfig): SigningKey {
  const pem = readKey(config.AUTH_PRIVATE_KEY, config.AUTH_PRIVATE_KEY_FILE, 'AUTH_PRIVATE_KEY');
  if (!pem) throw new ConfigError('AUTH_PRIVATE_KEY: required');
  const privateKey = parsePrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  const configured = readKey(config.AUTH_PUBLIC_KEY, config.AUTH_PUBLIC_KEY_FILE, 'AUTH_PUBLIC_KEY');
  if (configured && !createPublicKey(configured).equals(publicKey)) {
    throw new ConfigError('AUTH_PUBLIC_KEY: is not the public half of AUTH_PRIVATE_KEY');
  }
  const { n, e } = publicKey.export({ format: 'jwk' });
  if (!n || !e) throw new ConfigError('AUTH_PRIVATE_KEY: the RSA public key has no modulus or exponent');
  // The RFC 7638 thumbprint: a key id that changes exactly when the key does.
  const kid = createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
  return {
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk: { kty: 'RSA', n, e, kid, use: 'sig', alg: 'RS256' },
  };
}
