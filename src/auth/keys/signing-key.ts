import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { SigningAlgorithm } from '@nest-auth-backend/token-contract';
import type { KeyEncryption } from './key-encryption';

// The algorithms and the kid's form are the token contract's (the client module checks them too).
export { KID_PATTERN, SIGNING_ALGORITHMS, type SigningAlgorithm } from '@nest-auth-backend/token-contract';

/** A public key as a JWK: only the public members, never `d`, `p`, `q`, `dp`, `dq`, `qi`. */
export type PublicJwk = { kty: 'EC'; crv: 'P-256'; x: string; y: string } | { kty: 'RSA'; n: string; e: string };

/** A JWKS entry (RFC 7517): the public key, its kid, what it is for. */
export type PublishedJwk = PublicJwk & { kid: string; alg: SigningAlgorithm; use: 'sig' };

/** `status` of a key at a moment (API.md, "Signing keys"). */
export type KeyStatus = 'next' | 'active' | 'retiring' | 'revoked';

/** A row of `signing_keys` as the repository returns it. */
export interface SigningKeyRow {
  kid: string;
  algorithm: SigningAlgorithm;
  publicJwk: unknown;
  privateKeyEncrypted: Uint8Array;
  createdAt: Date;
  activatesAt: Date;
  retiresAt: Date | null;
  revokedAt: Date | null;
}

/** What a new key's row holds: the private part sealed already. */
export type NewSigningKey = Pick<SigningKeyRow, 'kid' | 'algorithm' | 'privateKeyEncrypted'> & { publicJwk: PublicJwk };

const generate = promisify(generateKeyPair);

/** A fresh key pair for `algorithm` (P-256, or RSA 2048 bits), its private part sealed at once. */
export async function newSigningKey(algorithm: SigningAlgorithm, encryption: KeyEncryption): Promise<NewSigningKey> {
  const { privateKey } = algorithm === 'ES256' ? await generate('ec', { namedCurve: 'P-256' }) : await generate('rsa', { modulusLength: 2048 });
  const publicJwk = publicJwkOf(createPublicKey(privateKey));
  const kid = thumbprint(publicJwk);
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  return { kid, algorithm, publicJwk, privateKeyEncrypted: encryption.seal(der, kid) };
}

/** The public members of a key, exactly (a private key's JWK export would carry `d` and more). */
export function publicJwkOf(key: KeyObject): PublicJwk {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && jwk.x && jwk.y) return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  if (jwk.kty === 'RSA' && jwk.n && jwk.e) return { kty: 'RSA', n: jwk.n, e: jwk.e };
  throw new Error(`Not a signing key of a supported type (${jwk.kty})`);
}

/** RFC 7638: SHA-256 of the required members, in lexicographic order, without whitespace. */
export function thumbprint(jwk: PublicJwk): string {
  const canonical = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** A key a row proves to be ours, with the private part when it may still sign. */
export interface TrustedKey {
  kid: string;
  algorithm: SigningAlgorithm;
  publicJwk: PublicJwk;
  publicKey: KeyObject;
  privateKey: KeyObject;
  /** The private part was sealed under AUTH_SECRET_PREVIOUS: seal it again under AUTH_SECRET. */
  sealedWithPrevious: boolean;
}

/**
 * Checks that a row is a key this deployment made, and returns it ready to use. The
 * public key alone is not trusted: anyone who can write to the database could add a row
 * with a public key of their own and sign tokens for it. A row is trusted only when its
 * private part opens under the server secret (authenticated encryption bound to the
 * kid), that private key's public half is the row's public key, and the kid is its
 * thumbprint. Throws (KeyDecryptionError or Error) otherwise.
 */
export function trustRow(row: SigningKeyRow, encryption: KeyEncryption): TrustedKey {
  const publicJwk = publicJwkOf(createPublicKey({ key: row.publicJwk as never, format: 'jwk' }));
  if (thumbprint(publicJwk) !== row.kid) throw new Error(`signing key ${row.kid}: the kid is not the thumbprint of its public key`);
  const { plaintext, sealedWithPrevious } = encryption.open(row.privateKeyEncrypted, row.kid);
  const privateKey = createPrivateKey({ key: plaintext, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  if (thumbprint(publicJwkOf(publicKey)) !== row.kid) throw new Error(`signing key ${row.kid}: its private part belongs to another key`);
  const expected = row.algorithm === 'ES256' ? 'ec' : 'rsa';
  if (publicKey.asymmetricKeyType !== expected) throw new Error(`signing key ${row.kid}: not an ${row.algorithm} key`);
  return { kid: row.kid, algorithm: row.algorithm, publicJwk, publicKey, privateKey, sealedWithPrevious };
}

/**
 * Where a key is in its life at `now`: published and waiting (`next`), signing
 * (`active`), replaced by its successor but still verifying the tokens it signed
 * (`retiring`), or compromised (`revoked`).
 */
export function statusOf(row: Pick<SigningKeyRow, 'activatesAt' | 'retiresAt' | 'revokedAt'>, now: number): KeyStatus {
  if (row.revokedAt) return 'revoked';
  if (row.activatesAt.getTime() > now) return 'next';
  return row.retiresAt && row.retiresAt.getTime() <= now ? 'retiring' : 'active';
}
