/**
 * One spelling per ES256 token. An ECDSA signature (r, s) is just as valid as (r, n - s),
 * and base64url's last character of a 64-byte signature carries 4 unused bits: without a
 * rule, anyone holding a token can write other tokens with the same claims and a valid
 * signature, which caches, logs and deny-lists keyed on the token would take for others.
 * The rule (as BIP 146 and libsecp256k1 have it): s is in the lower half of the group
 * order, and the signature segment is the canonical base64url of its 64 bytes. The
 * issuer writes only that form (`toCanonicalEs256`); verifiers refuse any other
 * (`isCanonicalEs256`) before checking the signature itself.
 */

/** The order n of P-256's base point (SEC 2, secp256r1). */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_ORDER = P256_ORDER >> 1n;
/** r || s, 32 bytes each (JWS's ES256 encoding, RFC 7518 §3.4). */
const SIGNATURE_BYTES = 64;

function signatureOf(token: string): { head: string; segment: string; bytes: Buffer } {
  const dot = token.lastIndexOf('.');
  const segment = token.slice(dot + 1);
  return { head: token.slice(0, dot), segment, bytes: Buffer.from(segment, 'base64url') };
}

const scalar = (bytes: Buffer): bigint => BigInt(`0x${bytes.toString('hex')}`);

/** Whether an ES256 JWS compact token's signature is in the one form we issue: 64 bytes, low s, canonical base64url. */
export function isCanonicalEs256(token: string): boolean {
  const { segment, bytes } = signatureOf(token);
  return bytes.length === SIGNATURE_BYTES && bytes.toString('base64url') === segment && scalar(bytes.subarray(32)) <= HALF_ORDER;
}

/** The same token with its ES256 signature in canonical form: s replaced by n - s when s is in the upper half. */
export function toCanonicalEs256(token: string): string {
  const { head, bytes } = signatureOf(token);
  if (bytes.length !== SIGNATURE_BYTES) throw new Error('Not an ES256 signature');
  const s = scalar(bytes.subarray(32));
  if (s <= HALF_ORDER) return `${head}.${bytes.toString('base64url')}`;
  const low = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${head}.${Buffer.concat([bytes.subarray(0, 32), low]).toString('base64url')}`;
}
