import { Inject, Injectable } from '@nestjs/common';
import type { Tx } from '../../database/tx';
import { KeyEncryption } from '../keys/key-encryption';
import { SERVER_SECRETS, type ServerSecrets } from '../secret/server-secret';
import { MfaFactorsRepository } from './mfa-factors.repository';

/** The HKDF purpose of the key that seals TOTP secrets: a key of their own, not the signing keys'. */
const TOTP_SECRETS = 'totp-secret-encryption';
const contextOf = (userId: string) => `totp:${userId}`;

/**
 * TOTP secrets at rest, sealed as signing keys are (AES-256-GCM, KeyEncryption) under a
 * key derived from AUTH_SECRET for this purpose, the user's id as associated data (a
 * sealed secret copied to another user's row does not open). A copy of the database
 * alone yields no secret that can compute a code. AUTH_SECRET_PREVIOUS opens what the
 * previous secret sealed, and the secret is then sealed again under AUTH_SECRET in the
 * same transaction (as SigningKeys re-seals keys), so a rotation completes by use.
 */
@Injectable()
export class TotpSecrets {
  private readonly encryption: KeyEncryption;

  constructor(
    @Inject(SERVER_SECRETS) secrets: ServerSecrets,
    private readonly factors: MfaFactorsRepository,
  ) {
    this.encryption = new KeyEncryption(secrets, TOTP_SECRETS);
  }

  seal(userId: string, secret: string): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.encryption.seal(Buffer.from(secret, 'utf8'), contextOf(userId)));
  }

  /** The base32 secret; re-sealed under AUTH_SECRET in `tx` when AUTH_SECRET_PREVIOUS opened it. */
  async open(tx: Tx, userId: string, sealed: Uint8Array): Promise<string> {
    const { plaintext, sealedWithPrevious } = this.encryption.open(sealed, contextOf(userId));
    const secret = plaintext.toString('utf8');
    if (sealedWithPrevious) await this.factors.reseal(tx, userId, new Uint8Array(sealed), this.seal(userId, secret));
    return secret;
  }
}
