import { randomBytes } from 'node:crypto';
import { KeyEncryption } from '../auth/keys/key-encryption';
import type { ServerSecrets } from '../auth/secret/server-secret';

/** Standard Webhooks: `whsec_` and the base64 of the key (32 random bytes: an HMAC-SHA256 key of full strength). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Webhook secrets at rest. Signing needs the secret itself (a hash would not do), so it is
 * sealed like the private signing keys (AES-256-GCM under a key derived from AUTH_SECRET,
 * its own purpose; the webhook's id as associated data, so a sealed secret moved to another
 * row does not open). A copy of the database alone signs nothing.
 */
export class WebhookSecrets {
  private readonly encryption: KeyEncryption;

  constructor(secrets: ServerSecrets) {
    this.encryption = new KeyEncryption(secrets, 'webhook-secret-encryption');
  }

  seal(secret: string, webhookId: string): Buffer {
    return this.encryption.seal(Buffer.from(secret, 'utf8'), webhookId);
  }

  /** Throws KeyDecryptionError when neither AUTH_SECRET nor AUTH_SECRET_PREVIOUS sealed it. */
  open(sealed: Uint8Array, webhookId: string): string {
    return this.encryption.open(sealed, webhookId).plaintext.toString('utf8');
  }

  /** `sealed` sealed again under AUTH_SECRET if AUTH_SECRET_PREVIOUS sealed it (so the previous secret can go), else undefined. */
  resealed(sealed: Uint8Array, webhookId: string): Buffer | undefined {
    const { plaintext, sealedWithPrevious } = this.encryption.open(sealed, webhookId);
    return sealedWithPrevious ? this.encryption.seal(plaintext, webhookId) : undefined;
  }
}
