import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey, type ServerSecrets } from '../secret/server-secret';

/** The HKDF purpose of the key that encrypts signing keys at rest (another purpose, another key: webhook secrets). */
const SIGNING_KEYS = 'signing-key-encryption';
/** The layout's version byte: `version | iv (12) | tag (16) | ciphertext`. */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class KeyDecryptionError extends Error {}

/** What `open` recovered, and whether it took AUTH_SECRET_PREVIOUS (then it should be sealed again). */
export interface Opened {
  plaintext: Buffer;
  sealedWithPrevious: boolean;
}

/**
 * Private signing keys at rest: AES-256-GCM under a key derived (HKDF) from the server
 * secret, so a copy of the database alone (a backup, a read replica, an SQL injection
 * that reads) yields no key that can sign. GCM authenticates: a ciphertext changed by
 * one bit, sealed under another secret, or moved to another row (the row's `kid` is the
 * additional authenticated data) fails to open rather than yielding a wrong key.
 *
 * The same sealing keeps webhook secrets (WebhookSecrets), under a key of their own.
 *
 * AUTH_SECRET_PREVIOUS: what the previous secret sealed still opens, so the secret can
 * rotate; the caller seals it again under the current one (see SigningKeys).
 */
export class KeyEncryption {
  private readonly current: Buffer;
  private readonly previous?: Buffer;

  constructor(secrets: ServerSecrets, purpose = SIGNING_KEYS) {
    this.current = deriveKey(secrets.current, purpose);
    if (secrets.previous) this.previous = deriveKey(secrets.previous, purpose);
  }

  /** Whether AUTH_SECRET_PREVIOUS is set: what a refusal tells the operator to change differs. */
  get hasPrevious(): boolean {
    return this.previous !== undefined;
  }

  /** `plaintext` sealed under the current secret, bound to `context` (the kid). */
  seal(plaintext: Buffer, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), ciphertext]);
  }

  /** The plaintext of `sealed`, under the current secret or else the previous one; throws KeyDecryptionError. */
  open(sealed: Uint8Array, context: string): Opened {
    const bytes = Buffer.from(sealed);
    if (bytes.length <= 1 + IV_BYTES + TAG_BYTES || bytes[0] !== VERSION) throw new KeyDecryptionError('not a sealed key');
    const plaintext = openWith(this.current, bytes, context);
    if (plaintext) return { plaintext, sealedWithPrevious: false };
    const old = this.previous && openWith(this.previous, bytes, context);
    if (old) return { plaintext: old, sealedWithPrevious: true };
    throw new KeyDecryptionError(this.previous ? 'sealed under neither AUTH_SECRET nor AUTH_SECRET_PREVIOUS' : 'not sealed under AUTH_SECRET');
  }
}

function openWith(key: Buffer, bytes: Buffer, context: string): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
