import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { isCanonicalEs256, toCanonicalEs256 } from './token-signature';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** A JWS-shaped token over `input`, signed by node:crypto (which leaves s as it comes: high about half the time). */
function signed(input: string): string {
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}
const verifies = (token: string) => {
  const dot = token.lastIndexOf('.');
  return verify('sha256', Buffer.from(token.slice(0, dot)), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(token.slice(dot + 1), 'base64url'));
};
/** The other valid signature of the same token: (r, n - s). */
function flipped(token: string): string {
  const dot = token.lastIndexOf('.');
  const bytes = Buffer.from(token.slice(dot + 1), 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const other = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${token.slice(0, dot)}.${Buffer.concat([bytes.subarray(0, 32), other]).toString('base64url')}`;
}

describe('ES256 signatures in one spelling', () => {
  const tokens = Array.from({ length: 64 }, (_, i) => signed(`eyJhbGciOiJFUzI1NiJ9.${Buffer.from(`{"n":${i}}`).toString('base64url')}`));

  it('makes every signature canonical, still valid, and leaves a canonical one as it is', () => {
    // node:crypto writes both forms: the sample holds each (the chance of one form only is 2^-63).
    expect(tokens.some(isCanonicalEs256)).toBe(true);
    expect(tokens.some((t) => !isCanonicalEs256(t))).toBe(true);
    for (const token of tokens) {
      const canonical = toCanonicalEs256(token);
      expect(isCanonicalEs256(canonical)).toBe(true);
      expect(verifies(canonical)).toBe(true);
      if (isCanonicalEs256(token)) expect(canonical).toBe(token);
    }
  });

  it('refuses the high-s twin of a canonical signature, though it verifies', () => {
    for (const token of tokens.map(toCanonicalEs256)) {
      const twin = flipped(token);
      expect(verifies(twin)).toBe(true);
      expect(isCanonicalEs256(twin)).toBe(false);
    }
  });

  it('refuses a signature segment that decodes to the same bytes but is not their canonical base64url, and a wrong length', () => {
    const token = toCanonicalEs256(tokens[0]);
    const last = token.at(-1)!;
    // 64 bytes are 86 base64url characters; the last one carries 2 bits and 4 unused ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBits = [...alphabet].filter((c) => c !== last && alphabet.indexOf(c) >> 4 === alphabet.indexOf(last) >> 4);
    expect(sameBits).toHaveLength(15);
    for (const c of sameBits) {
      const bent = token.slice(0, -1) + c;
      expect(Buffer.from(bent.split('.')[2], 'base64url')).toEqual(Buffer.from(token.split('.')[2], 'base64url'));
      expect(isCanonicalEs256(bent)).toBe(false);
    }
    expect(isCanonicalEs256(`${token}AA`)).toBe(false);
    expect(isCanonicalEs256(token.slice(0, -4))).toBe(false);
  });
});
