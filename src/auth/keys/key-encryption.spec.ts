import { randomBytes } from 'node:crypto';
import { secretKey } from '../secret/server-secret';
import { KeyDecryptionError, KeyEncryption } from './key-encryption';
import { newSigningKey, trustRow, type SigningKeyRow } from './signing-key';

const OLD = randomBytes(32).toString('base64url');
const NEW = randomBytes(32).toString('base64url');
const under = (current: string, previous?: string) => new KeyEncryption({ current: secretKey(current), ...(previous && { previous: secretKey(previous) }) });

describe('KeyEncryption: private signing keys at rest', () => {
  const plaintext = randomBytes(138);

  it('opens what it sealed (AES-256-GCM), never stores the plaintext, and seals differently every time', () => {
    const encryption = under(NEW);
    const sealed = encryption.seal(plaintext, 'kid-1');
    expect(sealed.includes(plaintext)).toBe(false);
    expect(encryption.open(sealed, 'kid-1')).toEqual({ plaintext, sealedWithPrevious: false });
    expect(encryption.seal(plaintext, 'kid-1').equals(sealed)).toBe(false);
  });

  it('refuses to open under the wrong secret, for another kid, or once a single bit changed', () => {
    const sealed = under(OLD).seal(plaintext, 'kid-1');
    expect(() => under(NEW).open(sealed, 'kid-1')).toThrow(KeyDecryptionError);
    expect(() => under(OLD).open(sealed, 'kid-2')).toThrow(KeyDecryptionError);
    for (const at of [0, 1, 20, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at] ^= 1;
      expect(() => under(OLD).open(tampered, 'kid-1')).toThrow(KeyDecryptionError);
    }
    expect(() => under(OLD).open(Buffer.alloc(10), 'kid-1')).toThrow(KeyDecryptionError);
  });

  it('opens what the previous secret sealed (AUTH_SECRET_PREVIOUS), and says so, so that it is sealed again', () => {
    const sealed = under(OLD).seal(plaintext, 'kid-1');
    expect(under(NEW, OLD).open(sealed, 'kid-1')).toEqual({ plaintext, sealedWithPrevious: true });
    const resealed = under(NEW, OLD).seal(plaintext, 'kid-1');
    expect(under(NEW).open(resealed, 'kid-1')).toEqual({ plaintext, sealedWithPrevious: false });
    expect(() => under(OLD).open(resealed, 'kid-1')).toThrow(KeyDecryptionError);
  });

  it('trusts a stored key only if its private part opens and matches its public key and kid', async () => {
    const encryption = under(NEW);
    const key = await newSigningKey('ES256', encryption);
    const row: SigningKeyRow = { ...key, createdAt: new Date(), activatesAt: new Date(), retiresAt: null, revokedAt: null };
    expect(trustRow(row, encryption)).toMatchObject({ kid: key.kid, algorithm: 'ES256', sealedWithPrevious: false });
    // A row written by someone without the secret: their public key, anything as the private part.
    const intruder = await newSigningKey('ES256', under(OLD));
    expect(() => trustRow({ ...row, ...intruder }, encryption)).toThrow(KeyDecryptionError);
    // Another key's sealed private part under this kid, or this private part under another public key.
    const other = await newSigningKey('ES256', encryption);
    expect(() => trustRow({ ...row, privateKeyEncrypted: other.privateKeyEncrypted }, encryption)).toThrow();
    expect(() => trustRow({ ...row, publicJwk: other.publicJwk }, encryption)).toThrow(/thumbprint/);
    expect(() => trustRow({ ...row, algorithm: 'RS256' }, encryption)).toThrow(/RS256/);
  });

  it('makes RS256 keys too, and publishes only public members', async () => {
    const encryption = under(NEW);
    const key = await newSigningKey('RS256', encryption);
    expect(Object.keys(key.publicJwk).sort()).toEqual(['e', 'kty', 'n']);
    const ec = await newSigningKey('ES256', encryption);
    expect(Object.keys(ec.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
